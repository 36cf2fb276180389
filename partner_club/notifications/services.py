"""The notification service: events in, the in-app list, and every channel out.

Packages register the kinds of message they raise (`register_kind`) and call
`notify` inside their own transaction; the in-app row is written at once and
the other channels are delivered by a job after the commit (nothing is sent
for a rolled-back transaction). See docs/messages.md.

Older code sends plain messages with `send_after_commit` and `send_now`,
which stay here: the message goes out after the transaction commits.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, insert, select, update
from sqlalchemy.orm import Session

from partner_club.database import utcnow
from partner_club.jobs.services import enqueue
from partner_club.links import is_local_path
from partner_club.notifications.channels import CHANNELS, FALLBACK, Channel, Outcome, Outgoing
from partner_club.notifications.delivery import DEFAULT_CHANNELS, allowed_channels, set_channels
from partner_club.notifications.jobs import deliver_notification
from partner_club.notifications.kinds import ALWAYS_IN_APP, GROUPS, KINDS, Kind, register_kind, render_kind
from partner_club.notifications.mailer import Attachment, Message
from partner_club.notifications.models import Delivery, Notification
from partner_club.redact import mask

__all__ = [
    "ALWAYS_IN_APP",
    "CHANNELS",
    "DEFAULT_CHANNELS",
    "FALLBACK",
    "GROUPS",
    "KINDS",
    "Attachment",
    "Channel",
    "Kind",
    "Message",
    "Outcome",
    "Outgoing",
    "UnknownKind",
    "allowed_channels",
    "mark_opened",
    "mark_read",
    "notify",
    "notify_in_app",
    "recent",
    "register_kind",
    "render",
    "send_after_commit",
    "send_now",
    "set_channels",
    "unread_count",
]

log = logging.getLogger(__name__)
_PENDING = "partner_club.pending_messages"


# The club's own kind: an operator's test of the channels (`flask notifications test LOGIN`).
register_kind(
    Kind(
        name="club.test",
        group="support",
        title=_l("A test message from the club"),
        body=_l("If you read this, the club's messages reach you here."),
        urgent=True,
    )
)


class UnknownKind(ValueError):
    code = "unknown_kind"


def notify(
    session: Session,
    user_id: int,
    kind: str,
    params: Mapping[str, Any] | None = None,
    link: str | None = None,
    *,
    mailing_id: int | None = None,
    deliver: bool = True,
) -> Notification:
    """Adds the in-app message and queues its delivery by the person's other channels.

    The delivery job starts only after the caller's transaction commits; it never commits here.
    `deliver=False` leaves the delivery to the caller's own job (a mailing sending at a set
    rate calls `notifications.jobs.deliver_notification(None, id)` for each person).
    """
    if kind not in KINDS:
        raise UnknownKind(f"no notification kind {kind!r} is registered")
    if link is not None and not is_local_path(link):
        raise ValueError("a notification's link is a path inside the club, starting with one '/'")
    notification = Notification(
        user_id=user_id, kind=kind, params=dict(params or {}), link=link, mailing_id=mailing_id
    )
    session.add(notification)
    session.flush()
    if deliver and not KINDS[kind].in_app_only:
        enqueue(session, deliver_notification, title=f"notification {kind}", notification_id=notification.id)
    return notification


def notify_in_app(
    session: Session, user_id: int, kind: str, params: Mapping[str, Any], link: str | None = None
) -> None:
    """`notify` for a kind that lives in the in-app list only, as one INSERT: the registration
    path says "+N points" with every code, and the ORM's unit of work cost it a tenth of its time."""
    if kind not in KINDS or not KINDS[kind].in_app_only:
        raise UnknownKind(f"{kind!r} is not a registered in-app-only kind")
    if link is not None and not is_local_path(link):
        raise ValueError("a notification's link is a path inside the club, starting with one '/'")
    session.connection().execute(
        _INSERT_IN_APP,
        {"user_id": user_id, "kind": kind, "params": dict(params), "link": link, "created_at": utcnow()},
    )


_INSERT_IN_APP = insert(Notification.__table__)  # built once: it runs with every registration


def render(notification: Notification, locale: str | None = None) -> tuple[str, str]:
    """(title, body) of a notification in a language (default: the club's)."""
    return render_kind(notification.kind, notification.params or {}, locale)


def unread_count(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def recent(
    session: Session, user_id: int, limit: int = 20, *, before_id: int | None = None
) -> list[Notification]:
    """The person's newest notifications first; `before_id` pages further back."""
    query = select(Notification).where(Notification.user_id == user_id)
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    return list(session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


def mark_read(
    session: Session, user_id: int, ids: Iterable[int] | None = None, *, now: datetime | None = None
) -> int:
    """Marks the person's own notifications read (None: all); others' ids are ignored. Returns how many."""
    query = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        wanted = [int(i) for i in ids]
        if not wanted:
            return 0
        query = query.where(Notification.id.in_(wanted))
    result = session.execute(
        query.values(read_at=now or utcnow()).execution_options(synchronize_session=False)
    )
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def mark_opened(session: Session, notification_id: int, channel: str, *, now: datetime) -> None:
    """Notes that the person followed the message's link from a channel (counts for mailings)."""
    session.execute(
        update(Delivery)
        .where(
            Delivery.notification_id == notification_id,
            Delivery.channel == channel,
            Delivery.opened_at.is_(None),
        )
        .values(opened_at=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()


def send_now(message: Message, channel: str = "email", config: Mapping[str, Any] | None = None) -> None:
    CHANNELS[channel].send(config if config is not None else current_app.config, message)


def send_after_commit(session: Session, message: Message, channel: str = "email") -> None:
    session.connection()  # begins the transaction, so a rollback() is seen and drops the message
    session.info.setdefault(_PENDING, []).append((channel, message))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    for channel, message in pending or ():
        try:
            send_now(message, channel)
        except (OSError, smtplib.SMTPException) as error:  # a mail server's trouble never undoes the work
            # The type only: a refusal's text (and so a traceback) carries the address.
            log.warning("could not send %s to %s: %s", channel, mask(message.to), type(error).__name__)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, _previous) -> None:
    # Every rollback() call, even with no SQL sent; a savepoint's rollback
    # leaves the outer transaction (and its pending work) alone.
    if not session.in_transaction():
        session.info.pop(_PENDING, None)
