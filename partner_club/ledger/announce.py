"""Telling people, once, that some of their points are about to expire."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from flask_babel import force_locale, format_date, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from partner_club.accounts.models import Role, User
from partner_club.ledger.models import Account, PointLot
from partner_club.notifications.services import Message, send_after_commit

NOTICE_DAYS = 30


def announce_expiring(session: Session, now: datetime, *, days: int = NOTICE_DAYS) -> int:
    """Mails each holder of points expiring within `days` (once per lot); returns the people told.

    A shop's points are announced to its owners. Lots are marked announced
    even when nobody has an e-mail address: the balance page shows them anyway.
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
            if person.email and not person.is_blocked:
                send_after_commit(session, _message(person, points, first))
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


def _message(person: User, points: int, expires_at: datetime) -> Message:
    with force_locale(person.locale or "ru"):
        when = format_date(expires_at.date(), "d MMMM y")  # no "г." to clash with the full stop
        subject = _("Your points are about to expire")
        text = ngettext(
            "%(num)d point expires on %(date)s. Spend it in the club catalog before then.",
            "%(num)d points expire on %(date)s. Spend them in the club catalog before then.",
            points,
            date=when,
        )
    return Message(to=person.email, subject=subject, text=text)
