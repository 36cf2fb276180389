"""Report e-mail subscriptions: who gets the KPI report, how often, when, covering what.

A person in the field (rep, regional manager, head office, admin) may subscribe
themself. Head office and admins choose recipients among everyone on the staff
side; a regional manager among the people of their region (its reps and
managers). Each subscription is sent at `hour` o'clock in its time zone: daily,
weekly on its weekday, or monthly on the 1st.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, delete, select, true
from sqlalchemy.orm import Session

from partner_club.accounts.access import EVERYTHING, STAFF
from partner_club.accounts.models import Role, User, UserStatus
from partner_club.errors import Forbidden, Invalid, NotFound
from partner_club.regions.models import Territory
from reports.models import Frequency, ReportSpan, Subscription
from reports.periods import Period, _add_months, current_month

SEND_HOUR = 6
CLUB_ZONE = "Europe/Moscow"
# The club's eleven time zones (Russia, Kazakhstan), west to east.
ZONES: list[tuple[str, object]] = [
    ("Europe/Kaliningrad", _l("Kaliningrad (UTC+2)")),
    ("Europe/Moscow", _l("Moscow (UTC+3)")),
    ("Europe/Samara", _l("Samara (UTC+4)")),
    ("Asia/Yekaterinburg", _l("Yekaterinburg (UTC+5)")),
    ("Asia/Almaty", _l("Almaty, Astana (UTC+5)")),
    ("Asia/Omsk", _l("Omsk (UTC+6)")),
    ("Asia/Novosibirsk", _l("Novosibirsk, Krasnoyarsk (UTC+7)")),
    ("Asia/Irkutsk", _l("Irkutsk (UTC+8)")),
    ("Asia/Yakutsk", _l("Yakutsk (UTC+9)")),
    ("Asia/Vladivostok", _l("Vladivostok (UTC+10)")),
    ("Asia/Magadan", _l("Magadan (UTC+11)")),
    ("Asia/Kamchatka", _l("Kamchatka (UTC+12)")),
    ("UTC", _l("UTC")),
]
SPAN_LABELS = {
    ReportSpan.MONTH_TO_DATE.value: _l("This month so far (on the 1st: the month just over)"),
    ReportSpan.PREVIOUS_MONTH.value: _l("The previous month"),
    ReportSpan.QUARTER_TO_DATE.value: _l("This quarter so far"),
    ReportSpan.PREVIOUS_QUARTER.value: _l("The previous quarter"),
    ReportSpan.YEAR_TO_DATE.value: _l("This year so far"),
}
FREQUENCY_LABELS = {
    Frequency.DAILY.value: _l("Daily"),
    Frequency.WEEKLY.value: _l("Weekly"),
    Frequency.MONTHLY.value: _l("Monthly, on the 1st"),
}
CHOOSERS = frozenset({Role.ADMIN, Role.HEAD_OFFICE, Role.REGIONAL_MANAGER})


@dataclass(frozen=True)
class Schedule:
    frequency: str
    weekday: int = 0  # 0 = Monday; weekly only
    hour: int = SEND_HOUR
    time_zone: str = "UTC"
    span: str = ReportSpan.MONTH_TO_DATE.value


def next_due(
    frequency: str, after: datetime, *, weekday: int = 0, hour: int = SEND_HOUR, zone: str = "UTC"
) -> datetime:
    """The first sending moment strictly after `after`, in UTC."""
    tz = ZoneInfo(zone)
    day = after.astimezone(tz).date()
    if frequency == Frequency.MONTHLY.value:
        day = day.replace(day=1)
    elif frequency == Frequency.WEEKLY.value:
        day -= timedelta(days=(day.weekday() - weekday) % 7)
    while True:
        moment = datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)
        if moment > after:
            return moment
        if frequency == Frequency.MONTHLY.value:
            day = _add_months(day, 1)
        else:
            day += timedelta(days=7 if frequency == Frequency.WEEKLY.value else 1)


def _quarter(day: date) -> Period:
    start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return Period("quarter", start, _add_months(start, 3))


def report_period(span: str, now: datetime, zone: str = "UTC") -> Period:
    """The period a report sent at `now` covers. "So far" periods look at yesterday, so a
    report sent on the 1st covers the month (quarter, year) just over, not one empty day."""
    local = now.astimezone(ZoneInfo(zone))
    yesterday = local - timedelta(days=1)
    if span == ReportSpan.PREVIOUS_MONTH.value:
        return current_month(local).previous()
    if span == ReportSpan.QUARTER_TO_DATE.value:
        return _quarter(yesterday.date())
    if span == ReportSpan.PREVIOUS_QUARTER.value:
        return _quarter(local.date()).previous()
    if span == ReportSpan.YEAR_TO_DATE.value:
        start = date(yesterday.year, 1, 1)
        return Period("year", start, _add_months(start, 12))
    return current_month(yesterday)


def mail_address(user: User) -> str | None:
    """The address a report is set up for: the e-mail on file, or the login when it is one."""
    if user.email:
        return user.email
    return user.login if "@" in user.login else None


def confirmed_address(user: User) -> str | None:
    """Where a report is sent: only an e-mail the person confirmed by its code (an address
    typed for them, or a login nobody proved, may be someone else's)."""
    return user.email if user.email and user.email_confirmed_at is not None else None


def may_choose_recipients(user: User) -> bool:
    return Role(user.role) in CHOOSERS


def recipient_filter(chooser: User) -> ColumnElement[bool]:
    """A WHERE clause on `User`: whom `chooser` may send the KPI report to."""
    role = Role(chooser.role)
    staff = User.role.in_([r.value for r in STAFF]) & (User.status == UserStatus.ACTIVE.value)
    if role in EVERYTHING:
        return staff & true()
    if role is Role.REGIONAL_MANAGER and chooser.region_id is not None:
        in_region = select(Territory.id).where(Territory.region_id == chooser.region_id)
        reps = select(Territory.rep_id).where(
            Territory.region_id == chooser.region_id, Territory.rep_id.is_not(None)
        )
        return (
            staff
            & User.role.in_([Role.REP.value, Role.REGIONAL_MANAGER.value])
            & ((User.region_id == chooser.region_id) | User.id.in_(reps) | User.territory_id.in_(in_region))
        )
    return User.id == chooser.id


def recipients(session: Session, chooser: User) -> list[User]:
    if not may_choose_recipients(chooser):
        return [chooser]
    return list(
        session.scalars(select(User).where(recipient_filter(chooser)).order_by(User.full_name, User.login))
    )


def recipient(session: Session, chooser: User, user_id: int | None) -> User:
    """The person `chooser` names as a recipient; NotFound for anyone outside their scope."""
    if user_id is None:
        raise Invalid(_("Choose whom the report goes to."), code="no_recipient")
    found = session.scalar(select(User).where(User.id == user_id, recipient_filter(chooser)))
    if found is None or (found.id != chooser.id and not may_choose_recipients(chooser)):
        raise NotFound(_("This person is not among those you can send reports to."))
    return found


def parse_schedule(
    frequency: str,
    *,
    weekday: str | int = 0,
    hour: str | int = SEND_HOUR,
    time_zone: str = "",
    span: str = "",
) -> Schedule:
    """A schedule from form values; Invalid with a message a person can act on."""
    if frequency not in {f.value for f in Frequency}:
        raise Invalid(_("Choose daily, weekly or monthly."), code="bad_frequency")
    try:
        day, at = int(weekday), int(hour)
    except (TypeError, ValueError):
        raise Invalid(_("Choose a weekday and an hour from the lists."), code="bad_schedule") from None
    if not (0 <= day <= 6 and 0 <= at <= 23):
        raise Invalid(_("Choose a weekday and an hour from the lists."), code="bad_schedule")
    zone = time_zone or CLUB_ZONE
    if zone not in {z for z, _label in ZONES}:
        raise Invalid(_("Choose a time zone from the list."), code="bad_time_zone")
    chosen_span = span or (
        ReportSpan.PREVIOUS_MONTH.value
        if frequency == Frequency.MONTHLY.value
        else ReportSpan.MONTH_TO_DATE.value
    )
    if chosen_span not in SPAN_LABELS:
        raise Invalid(_("Choose the period the report covers from the list."), code="bad_span")
    return Schedule(frequency, day, at, zone, chosen_span)


def schedule_report(
    session: Session, chooser: User, person: User, schedule: Schedule, *, now: datetime
) -> Subscription:
    """Sets `person`'s report of this frequency to `schedule` (one per person and frequency)."""
    if person.id != chooser.id and not may_choose_recipients(chooser):
        raise Forbidden(_("Only head office and regional managers choose report recipients."))
    if Role(person.role) not in STAFF:
        raise Forbidden(_("Only reps, managers and head office receive KPI reports."))
    if person.id != chooser.id:
        recipient(session, chooser, person.id)  # in scope, or NotFound
    if mail_address(person) is None:
        raise Invalid(
            _("%(name)s has no e-mail address: reports are sent by e-mail.", name=person.display_name)
            if person.id != chooser.id
            else _("Add an e-mail address to your profile first: reports are sent by e-mail."),
            code="no_email",
        )
    found = session.scalar(
        select(Subscription).where(
            Subscription.user_id == person.id, Subscription.frequency == schedule.frequency
        )
    )
    if found is None:
        found = Subscription(user_id=person.id, frequency=schedule.frequency)
        session.add(found)
    found.weekday, found.hour = schedule.weekday, schedule.hour
    found.time_zone, found.span = schedule.time_zone, schedule.span
    found.created_by_id = chooser.id
    found.next_due_at = next_due(
        schedule.frequency, now, weekday=schedule.weekday, hour=schedule.hour, zone=schedule.time_zone
    )
    session.flush()
    return found


def subscribe(session: Session, user: User, frequency: str, *, now: datetime) -> Subscription:
    """One's own report: Mondays or the 1st, 06:00 UTC, as it always was."""
    schedule = parse_schedule(frequency, time_zone="UTC")
    return schedule_report(session, user, user, schedule, now=now)


def unsubscribe(session: Session, user: User, frequency: str) -> None:
    session.execute(
        delete(Subscription).where(
            Subscription.user_id == user.id,
            Subscription.frequency == parse_schedule(frequency).frequency,
        )
    )
    session.flush()


def visible_subscription(session: Session, chooser: User, subscription_id: int) -> Subscription:
    found = session.get(Subscription, subscription_id)
    if found is None or (
        found.user_id != chooser.id
        and (
            not may_choose_recipients(chooser)
            or session.scalar(select(User.id).where(User.id == found.user_id, recipient_filter(chooser)))
            is None
        )
    ):
        raise NotFound(_("This report e-mail does not exist or is not yours to change."))
    return found


def cancel(session: Session, chooser: User, subscription_id: int) -> None:
    session.delete(visible_subscription(session, chooser, subscription_id))
    session.flush()


def of_user(session: Session, user: User) -> list[Subscription]:
    return list(
        session.scalars(
            select(Subscription).where(Subscription.user_id == user.id).order_by(Subscription.frequency)
        )
    )


def managed(session: Session, chooser: User) -> list[Subscription]:
    """The subscriptions of everyone `chooser` may send reports to (themself included)."""
    if not may_choose_recipients(chooser):
        return of_user(session, chooser)
    people = select(User.id).where(recipient_filter(chooser))
    return list(
        session.scalars(
            select(Subscription)
            .join(User, User.id == Subscription.user_id)
            .where(Subscription.user_id.in_(people))
            .order_by(User.full_name, User.login, Subscription.frequency)
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
