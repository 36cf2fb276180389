"""Mailings: writing one, its cost, its schedule, sending it in batches, and its counts.

A mailing is sent by a job (`mailings.jobs.send_mailing`) in batches. Each
batch is one transaction that writes, for every person of the batch, a
`MailingRecipient` row (unique per mailing and person) and, unless the person
is skipped, their notification. A worker killed mid-batch loses the whole
batch and the next attempt starts after the last committed one, so nobody is
left out and nobody gets the message twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy.orm import Session

from partner_club.accounts.access import EVERYTHING
from partner_club.accounts.models import Role, User
from partner_club.audit.services import record
from partner_club.errors import Conflict, Forbidden, Invalid
from partner_club.mailings import segments
from partner_club.mailings.models import Mailing, MailingRecipient, MailingStatus, RecipientStatus
from partner_club.notifications.channels import sms_text
from partner_club.notifications.models import Delivery, DeliveryStatus, Notification, NotificationPreference
from partner_club.notifications.services import Kind, notify, register_kind
from partner_club.notifications.sms import sms_parts
from partner_club.outlets.models import Outlet
from partner_club.settings_store import get_setting, put_setting

KIND = "mailing.message"
GROUP = "mailings"
OUTSIDE_CHANNELS = ("push", "sms", "email")  # the in-app list always gets a mailing
CHANNEL_LABELS = {"inapp": _l("In-app list"), "push": _l("Push"), "sms": _l("SMS"), "email": _l("E-mail")}
STATUS_LABELS = {
    MailingStatus.DRAFT.value: _l("draft"),
    MailingStatus.SCHEDULED.value: _l("scheduled"),
    MailingStatus.SENDING.value: _l("sending"),
    MailingStatus.SENT.value: _l("sent"),
    MailingStatus.CANCELLED.value: _l("cancelled"),
}
MAX_TITLE = 200
MAX_BODY = 2000
CAP_SETTING = "mailings.weekly_cap"
RATE_SETTING = "mailings.rate_per_second"
DEFAULT_CAP = 2
DEFAULT_RATE = 20
MAX_RATE = 1000
SENDERS = frozenset({Role.ADMIN, Role.REGIONAL_MANAGER})  # head office reads KPIs only
LEFT_OUT = "not a channel of this mailing"


def _render(params: Mapping[str, Any], locale: str) -> tuple[str, str]:
    if locale == "en":
        return str(params.get("title_en", "")), str(params.get("body_en", ""))
    return str(params.get("title_ru", "")), str(params.get("body_ru", ""))


register_kind(Kind(name=KIND, group=GROUP, mailing=True, render=_render))


# --- SMS cost (the service's own count of parts) -----------------------------------


def mailing_sms_text(title: str, body: str) -> str:
    """What an SMS of the mailing carries: the channel's own text (a mailing has no link)."""
    return sms_text(title, body, None)


@dataclass
class Cost:
    parts_ru: int
    parts_en: int
    people: dict[str, int]

    @property
    def total(self) -> int:
        return self.parts_ru * self.people.get("ru", 0) + self.parts_en * self.people.get("en", 0)


def sms_cost(
    session: Session, draft: MailingDraft, scope: ColumnElement[bool], now: datetime, default_locale: str
) -> Cost:
    """The most SMS parts the mailing can cost: every person of the segment (within `scope`, a
    WHERE clause on `Outlet`) by SMS."""
    people = segments.audience_by_locale(session, draft.segment, scope, now, default_locale)
    return Cost(
        parts_ru=sms_parts(mailing_sms_text(draft.title_ru, draft.body_ru)),
        parts_en=sms_parts(mailing_sms_text(draft.title_en, draft.body_en)),
        people=people,
    )


# --- settings ---------------------------------------------------------------------


def weekly_cap(session: Session) -> int:
    return int(get_setting(session, CAP_SETTING, DEFAULT_CAP))


def rate_per_second(session: Session) -> int:
    return int(get_setting(session, RATE_SETTING, DEFAULT_RATE))


def set_limits(session: Session, *, cap: int, rate: int, actor: User) -> None:
    if Role(actor.role) is not Role.ADMIN:
        raise Forbidden(_("Only an administrator changes the mailing limits."))
    if not 1 <= cap <= 50:
        raise Invalid(_("The weekly cap must be between 1 and 50 mailings."))
    if not 1 <= rate <= MAX_RATE:
        raise Invalid(_("The rate must be between 1 and %(most)s messages a second.", most=MAX_RATE))
    put_setting(session, CAP_SETTING, cap, actor_id=actor.id)
    put_setting(session, RATE_SETTING, rate, actor_id=actor.id)
    record(session, actor, "mailings.limits", None, cap=cap, rate=rate)


# --- writing a mailing ------------------------------------------------------------


@dataclass
class MailingDraft:
    title_ru: str = ""
    title_en: str = ""
    body_ru: str = ""
    body_en: str = ""
    channels: list[str] = field(default_factory=list)
    segment: dict[str, Any] = field(default_factory=dict)
    send_at: datetime | None = None  # UTC; None: now (or a draft)


def club_time(text: str, zone_name: str) -> datetime:
    """A `YYYY-MM-DDTHH:MM` typed in the club's time zone, as UTC."""
    try:
        local = datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(_("Give the time as a date and an hour, e.g. 2026-12-01 10:00.")) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(zone_name))
    return local.astimezone(ZoneInfo("UTC"))


def _check_texts(draft: MailingDraft) -> None:
    for text, label in (
        (draft.title_ru, _("The Russian title")),
        (draft.title_en, _("The English title")),
        (draft.body_ru, _("The Russian text")),
        (draft.body_en, _("The English text")),
    ):
        if not text.strip():
            raise Invalid(
                _("%(field)s is required: each person reads the mailing in their language.", field=label)
            )
    if max(len(draft.title_ru), len(draft.title_en)) > MAX_TITLE:
        raise Invalid(_("A title may be at most %(most)s characters long.", most=MAX_TITLE))
    if max(len(draft.body_ru), len(draft.body_en)) > MAX_BODY:
        raise Invalid(_("A text may be at most %(most)s characters long.", most=MAX_BODY))
    unknown = set(draft.channels) - set(OUTSIDE_CHANNELS)
    if unknown:
        raise Invalid(_("Unknown channel: %(names)s.", names=", ".join(sorted(unknown))))


def require_sender(viewer: User) -> None:
    if Role(viewer.role) not in SENDERS:
        raise Forbidden(_("Your role does not send mailings."))


def scope_region(viewer: User) -> int | None:
    return None if Role(viewer.role) in EVERYTHING else viewer.region_id


def mailing_scope(mailing: Mailing) -> ColumnElement[bool]:
    """The shops a mailing reaches: those of the region it was written for, whoever wrote it
    (they may have moved on since) and whoever sends it; a head office mailing, everyone's."""
    return Outlet.region_id == mailing.region_id if mailing.region_id is not None else true()


def can_see(viewer: User, mailing: Mailing) -> bool:
    if Role(viewer.role) in EVERYTHING:
        return True
    return Role(viewer.role) is Role.REGIONAL_MANAGER and mailing.region_id == viewer.region_id


def save_mailing(
    session: Session, draft: MailingDraft, *, actor: User, mailing: Mailing | None = None
) -> Mailing:
    """Creates or rewrites a draft (texts, channels, segment); checks everything but the time."""
    require_sender(actor)
    draft.segment = segments.clean(draft.segment)
    segments.check_scope(session, draft.segment, actor)
    _check_texts(draft)
    if mailing is None:
        mailing = Mailing(created_by_id=actor.id, region_id=scope_region(actor))
        session.add(mailing)
    elif mailing.status not in (MailingStatus.DRAFT.value, MailingStatus.SCHEDULED.value):
        raise Conflict(_("A mailing that has started can no longer be changed."))
    elif not can_see(actor, mailing):
        raise Forbidden(_("This mailing is outside your region."))
    mailing.title_ru, mailing.title_en = draft.title_ru.strip(), draft.title_en.strip()
    mailing.body_ru, mailing.body_en = draft.body_ru.strip(), draft.body_en.strip()
    mailing.channels = ",".join(c for c in OUTSIDE_CHANNELS if c in draft.channels)
    mailing.segment = draft.segment
    mailing.status, mailing.send_at = MailingStatus.DRAFT.value, None
    session.flush()
    return mailing


def schedule(session: Session, mailing: Mailing, send_at: datetime, *, actor: User, now: datetime) -> None:
    if send_at <= now:
        raise Invalid(_("The time has passed: choose a later one, or send now."))
    _require_unstarted(mailing, actor)
    mailing.status, mailing.send_at = MailingStatus.SCHEDULED.value, send_at
    record(session, actor, "mailings.schedule", mailing, send_at=send_at.isoformat())
    session.flush()


def cancel(session: Session, mailing: Mailing, *, actor: User) -> None:
    _require_unstarted(mailing, actor)
    mailing.status = MailingStatus.CANCELLED.value
    record(session, actor, "mailings.cancel", mailing)
    session.flush()


def _require_unstarted(mailing: Mailing, actor: User) -> None:
    require_sender(actor)
    if not can_see(actor, mailing):
        raise Forbidden(_("This mailing is outside your region."))
    if mailing.status not in (MailingStatus.DRAFT.value, MailingStatus.SCHEDULED.value):
        raise Conflict(_("This mailing has already started or was cancelled."))


def mark_sending(session: Session, mailing: Mailing, *, actor: User | None, now: datetime) -> None:
    """Checks a mailing may start and marks it sending; `jobs.start_sending` queues its job."""
    if actor is not None:
        _require_unstarted(mailing, actor)
    elif mailing.status != MailingStatus.SCHEDULED.value:
        raise Conflict(_("This mailing has already started or was cancelled."))
    mailing.audience = segments.audience_size(session, mailing.segment, mailing_scope(mailing), now).people
    mailing.status, mailing.started_at = MailingStatus.SENDING.value, now
    mailing.send_at = mailing.send_at or now
    if actor is not None:
        record(session, actor, "mailings.send", mailing, audience=mailing.audience)
    session.flush()


def due_mailings(session: Session, now: datetime) -> list[Mailing]:
    """Scheduled mailings whose time has come, locked against a second runner."""
    return list(
        session.scalars(
            select(Mailing)
            .where(Mailing.status == MailingStatus.SCHEDULED.value, Mailing.send_at <= now)
            .order_by(Mailing.send_at, Mailing.id)
            .with_for_update(skip_locked=True)
        )
    )


# --- sending ------------------------------------------------------------------------


def send_filter(session: Session, mailing: Mailing, now: datetime) -> list[ColumnElement[bool]]:
    """The segment's WHERE clauses, within the mailing's scope (computed once per run)."""
    return segments.criteria(session, mailing.segment, mailing_scope(mailing), now)


def send_batch(
    session: Session, mailing: Mailing, where: list[ColumnElement[bool]], *, now: datetime, limit: int
) -> tuple[int, list[int]]:
    """Writes the next `limit` people's rows and notifications: (people handled, 0 when all are
    done; the notifications to deliver)."""
    handled = select(MailingRecipient.user_id).where(MailingRecipient.mailing_id == mailing.id)
    ids = list(
        session.scalars(
            select(User.id)
            .join(Outlet, Outlet.id == User.outlet_id)
            .where(and_(*where), User.id.not_in(handled))
            .order_by(User.id)
            .limit(limit)
        )
    )
    if not ids:
        return 0, []
    unsubscribed = set(
        session.scalars(
            select(NotificationPreference.user_id).where(
                NotificationPreference.user_id.in_(ids),
                NotificationPreference.group == GROUP,
                NotificationPreference.channels == "",
            )
        )
    )
    week_ago = now - timedelta(days=7)
    this_week: dict[int, int] = {
        int(user_id): int(count)
        for user_id, count in session.execute(
            select(MailingRecipient.user_id, func.count())
            .where(
                MailingRecipient.user_id.in_(ids),
                MailingRecipient.status == RecipientStatus.SENT.value,
                MailingRecipient.created_at >= week_ago,
                MailingRecipient.mailing_id != mailing.id,
            )
            .group_by(MailingRecipient.user_id)
        )
    }
    cap = weekly_cap(session)
    params = {
        "title_ru": mailing.title_ru,
        "title_en": mailing.title_en,
        "body_ru": mailing.body_ru,
        "body_en": mailing.body_en,
    }
    left_out = [c for c in OUTSIDE_CHANNELS if c not in mailing.channel_list]
    to_deliver = []
    for user_id in ids:
        notification_id = None
        if user_id in unsubscribed:
            status = RecipientStatus.UNSUBSCRIBED.value
        elif this_week.get(user_id, 0) >= cap:
            status = RecipientStatus.CAPPED.value
        else:
            status = RecipientStatus.SENT.value
            notification = notify(session, user_id, KIND, params, mailing_id=mailing.id, deliver=False)
            notification_id = notification.id
            to_deliver.append(notification.id)
            # The delivery passes over a channel already marked skipped: only the chosen ones remain.
            for channel in left_out:
                session.add(
                    Delivery(
                        notification_id=notification.id,
                        channel=channel,
                        status=DeliveryStatus.SKIPPED.value,
                        reason=LEFT_OUT,
                    )
                )
        session.add(
            MailingRecipient(
                mailing_id=mailing.id,
                user_id=user_id,
                status=status,
                notification_id=notification_id,
                created_at=now,
            )
        )
    session.flush()
    return len(ids), to_deliver


def undelivered(session: Session, mailing: Mailing) -> list[int]:
    """Notifications of the mailing whose delivery never began (a worker died after the batch's
    commit): no delivery row beyond the channels the mailing left out."""
    begun = select(Delivery.id).where(
        Delivery.notification_id == Notification.id,
        or_(Delivery.reason.is_(None), Delivery.reason != LEFT_OUT),
    )
    return list(
        session.scalars(
            select(Notification.id)
            .where(Notification.mailing_id == mailing.id, ~begun.exists())
            .order_by(Notification.id)
        )
    )


def handled_count(session: Session, mailing_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(MailingRecipient)
            .where(MailingRecipient.mailing_id == mailing_id)
        )
        or 0
    )


def finish(session: Session, mailing: Mailing, now: datetime) -> None:
    mailing.status, mailing.finished_at = MailingStatus.SENT.value, now
    session.flush()


# --- counts -------------------------------------------------------------------------


@dataclass
class Counts:
    audience: int = 0
    handled: int = 0
    sent: int = 0
    capped: int = 0
    unsubscribed: int = 0
    delivered: int = 0  # reached by push, SMS or e-mail
    failed: int = 0  # every chosen channel of the person failed
    waiting: int = 0  # an outside delivery still to go (night, back-off)
    in_app_only: int = 0  # no chosen channel the person allows and has
    opened: int = 0

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.handled / self.audience)) if self.audience else 100


def counts(session: Session, mailing: Mailing) -> Counts:
    """Progress and outcome of a mailing, in a few aggregate queries."""
    result = Counts(audience=mailing.audience)
    for status, count in session.execute(
        select(MailingRecipient.status, func.count())
        .where(MailingRecipient.mailing_id == mailing.id)
        .group_by(MailingRecipient.status)
    ):
        setattr(result, str(status), int(count))
    result.handled = result.sent + result.capped + result.unsubscribed
    flag = lambda status: func.max(case((Delivery.status == status, 1), else_=0))  # noqa: E731
    per_message = (
        select(
            Notification.id.label("id"),
            Notification.read_at.label("read_at"),
            flag(DeliveryStatus.SENT.value).label("sent"),
            flag(DeliveryStatus.WAITING.value).label("waiting"),
            flag(DeliveryStatus.FAILED.value).label("failed"),
            func.max(case((Delivery.opened_at.is_not(None), 1), else_=0)).label("opened"),
        )
        .outerjoin(Delivery, Delivery.notification_id == Notification.id)
        .where(Notification.mailing_id == mailing.id)
        .group_by(Notification.id, Notification.read_at)
        .subquery()
    )
    m = per_message.c
    row = session.execute(
        select(
            func.coalesce(func.sum(m.sent), 0),
            func.coalesce(func.sum(case((and_(m.sent == 0, m.waiting == 1), 1), else_=0)), 0),
            func.coalesce(func.sum(case((and_(m.sent == 0, m.waiting == 0, m.failed == 1), 1), else_=0)), 0),
            func.coalesce(func.sum(case(((m.read_at.is_not(None)) | (m.opened == 1), 1), else_=0)), 0),
        )
    ).one()
    result.delivered, result.waiting, result.failed, result.opened = (int(v) for v in row)
    result.in_app_only = max(0, result.sent - result.delivered - result.waiting - result.failed)
    return result
