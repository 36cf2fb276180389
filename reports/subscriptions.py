"""Report subscriptions: weekly (Mondays) or monthly (the 1st), 06:00 UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from partner_club.accounts.access import STAFF
from partner_club.accounts.models import Role, User
from partner_club.errors import Forbidden, Invalid
from reports.models import Frequency, Subscription

SEND_HOUR = 6


def next_due(frequency: str, after: datetime) -> datetime:
    """The first sending moment strictly after `after`."""
    after = after.astimezone(UTC)
    if frequency == Frequency.WEEKLY.value:
        monday = (after - timedelta(days=after.weekday())).replace(
            hour=SEND_HOUR, minute=0, second=0, microsecond=0
        )
        return monday if monday > after else monday + timedelta(days=7)
    first = after.replace(day=1, hour=SEND_HOUR, minute=0, second=0, microsecond=0)
    if first > after:
        return first
    return first.replace(year=first.year + (first.month == 12), month=first.month % 12 + 1)


def _frequency(raw: str) -> str:
    if raw not in {f.value for f in Frequency}:
        raise Invalid(_("Choose weekly or monthly."), code="bad_frequency")
    return raw


def mail_address(user: User) -> str | None:
    if user.email:
        return user.email
    return user.login if "@" in user.login else None


def subscribe(session: Session, user: User, frequency: str, *, now: datetime) -> Subscription:
    frequency = _frequency(frequency)
    if Role(user.role) not in STAFF:
        raise Forbidden(_("Only reps, managers and head office receive KPI reports."))
    if mail_address(user) is None:
        raise Invalid(
            _("Add an e-mail address to your profile first: reports are sent by e-mail."), code="no_email"
        )
    found = session.scalar(
        select(Subscription).where(Subscription.user_id == user.id, Subscription.frequency == frequency)
    )
    if found is None:
        found = Subscription(user_id=user.id, frequency=frequency, next_due_at=next_due(frequency, now))
        session.add(found)
        session.flush()
    return found


def unsubscribe(session: Session, user: User, frequency: str) -> None:
    session.execute(
        delete(Subscription).where(
            Subscription.user_id == user.id, Subscription.frequency == _frequency(frequency)
        )
    )
    session.flush()


def of_user(session: Session, user: User) -> list[Subscription]:
    return list(
        session.scalars(
            select(Subscription).where(Subscription.user_id == user.id).order_by(Subscription.frequency)
        )
    )


def due(session: Session, now: datetime) -> list[Subscription]:
    return list(
        session.scalars(
            select(Subscription)
            .where(Subscription.next_due_at <= now)
            .order_by(Subscription.next_due_at, Subscription.id)
        )
    )
