"""Telling people, once, that some of their points are about to expire (a notification each)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from partner_club.accounts.models import Role, User
from partner_club.ledger.models import Account, PointLot
from partner_club.notifications.services import Kind, notify, register_kind

NOTICE_DAYS = 30


def announce_expiring(session: Session, now: datetime, *, days: int = NOTICE_DAYS) -> int:
    """Notifies each holder of points expiring within `days` (once per lot); returns the people told.

    A shop's points are announced to its owners. The notification service
    takes it to the in-app list and the person's channels.
    """
    lots = session.scalars(
        select(PointLot).where(
            PointLot.remaining > 0,
            PointLot.announced_at.is_(None),
            PointLot.expires_at > now,
            PointLot.expires_at <= now + timedelta(days=days),
        )
    ).all()
    by_account: dict[int, list[PointLot]] = defaultdict(list)
    for lot in lots:
        by_account[lot.account_id].append(lot)
        lot.announced_at = now
    told = 0
    for account_id, account_lots in sorted(by_account.items()):
        points = sum(lot.remaining for lot in account_lots)
        first = min(lot.expires_at for lot in account_lots)
        for person in _holders(session, session.get(Account, account_id)):
            if not person.is_blocked:
                notify(
                    session,
                    person.id,
                    EXPIRING,
                    {"points": points, "date": first.date().isoformat()},
                    link="/points/",
                )
                told += 1
    session.flush()
    return told


def _holders(session: Session, account: Account) -> list[User]:
    if account.user_id is not None:
        return [account.user]
    return list(
        session.scalars(
            select(User).where(User.outlet_id == account.outlet_id, User.role == Role.OWNER.value)
        )
    )


def _expiring_text(params: Mapping[str, Any], locale: str) -> tuple[str, str]:
    """Rendered in the reader's language (the date too), under `force_locale(locale)`."""
    when = format_date(date.fromisoformat(params["date"]), "d MMMM y")  # no "г." to clash with the full stop
    points = int(params["points"])
    body = ngettext(
        "%(num)d point expires on %(date)s. Spend it in the club catalog before then.",
        "%(num)d points expire on %(date)s. Spend them in the club catalog before then.",
        points,
        date=when,
    )
    return _("Your points are about to expire"), body


EXPIRING = register_kind(Kind(name="points.expiring", group="points", render=_expiring_text)).name
