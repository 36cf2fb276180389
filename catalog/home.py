"""Catalog's cards on the home page: the next prize within reach; orders waiting for staff."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.models import Order, OrderStatus, Prize
from catalog.services import visible_prizes
from partner_club.accounts.access import PARTICIPANTS
from partner_club.accounts.models import Role, User
from partner_club.home import HomeCard
from partner_club.ledger.services import balance_of


def next_prize(session: Session, user: User) -> dict[str, Any] | None:
    """The cheapest prize the person cannot afford yet (how far), or the dearest one they can."""
    balance = balance_of(session, user).active
    prizes = visible_prizes(user).where(Prize.stock > 0)
    ahead = session.scalars(prizes.where(Prize.points > balance).order_by(Prize.points).limit(1)).first()
    affordable = session.scalars(
        prizes.where(Prize.points <= balance).order_by(Prize.points.desc()).limit(1)
    ).first()
    if ahead is None and affordable is None:
        return None
    prize = ahead or affordable
    return {
        "prize": prize,
        "name": prize.name(str(get_locale())),
        "balance": balance,
        "missing": max(0, prize.points - balance),
        "percent": min(100, round(100 * balance / prize.points)) if prize.points else 100,
        "affordable": affordable if ahead is not None else None,
    }


def orders_waiting(session: Session, user: User) -> dict[str, Any]:
    placed = session.scalar(select(func.count(Order.id)).where(Order.status == OrderStatus.PLACED.value))
    return {"count": placed or 0}


CARDS = [
    HomeCard("next_prize", PARTICIPANTS, next_prize, "catalog/home_prize.html", 20),
    HomeCard("orders", frozenset({Role.ADMIN}), orders_waiting, "catalog/home_orders.html", 40),
]
