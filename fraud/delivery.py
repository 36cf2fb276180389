"""Shared identity at prize time: one delivery address or phone behind many accounts.

The catalog may call `check_delivery` before it places an order (fraud does
not import the catalog: it reads the catalog's `prize_orders` table through
the shared metadata when that table exists).
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fraud.services import load_config
from partner_club.extensions import db
from partner_club.signals import ACCEPT, HOLD, Assessment, Reason

ORDERS_TABLE = "prize_orders"


def normalize_phone(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")[-10:]


def normalize_address(address: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", (address or "").lower()).split())


def check_delivery(session: Session, user_id: int, *, address: str, phone: str) -> Assessment:
    """Hold when other accounts already ordered to this address or phone."""
    config = load_config(session)
    orders = db.metadata.tables.get(ORDERS_TABLE)
    if orders is None or not config.enabled.get("shared_identity"):
        return Assessment()
    params = config.params["shared_identity"]
    wanted_phone, wanted_address = normalize_phone(phone), normalize_address(address)
    near = []  # a cheap SQL pre-filter; the exact comparison runs on the normalised texts below
    if len(wanted_phone) >= 7:
        near.append(orders.c.phone.like(f"%{wanted_phone[-7:-4]}%{wanted_phone[-4:-2]}%{wanted_phone[-2:]}%"))
    if wanted_address:
        near.append(func.lower(orders.c.address).like(f"%{_tail(address)}%"))
    if not near:
        return Assessment()
    rows = session.execute(
        select(orders.c.user_id, orders.c.address, orders.c.phone).where(
            orders.c.user_id != user_id, or_(*near)
        )
    ).all()
    by_phone = {u for u, a, p in rows if wanted_phone and normalize_phone(p) == wanted_phone}
    by_address = {u for u, a, p in rows if wanted_address and normalize_address(a) == wanted_address}
    others = len(by_phone | by_address)
    if others + 1 < params["delivery_accounts"]:
        return Assessment()
    evidence = {"accounts": others + 1, "phone": len(by_phone), "address": len(by_address)}
    message = _("This delivery address or phone is used by %(n)d accounts.", n=others + 1)
    score = params["delivery_score"]
    return Assessment(
        HOLD if score >= config.hold_score else ACCEPT,
        score,
        [Reason("shared_identity", score, message, evidence)],
    )


def _tail(address: str) -> str:
    """A cheap SQL pre-filter: the last word of the address (a house number, usually)."""
    words = normalize_address(address).split()
    return words[-1] if words else ""
