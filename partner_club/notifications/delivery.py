"""Taking a notification to the person: which channel, when, and what happened.

After the in-app list, a message goes by the first channel of push, SMS,
e-mail that the person allows for the kind's group and has (a live push
subscription, a confirmed phone or e-mail). Each channel tried or passed over
leaves a `Delivery` row with its status and reason. A non-urgent message
waits for 08:00 in the person's time zone; a passing failure (a provider's
500, a connection not made) is retried after NOTIFY_RETRY_INTERVALS; one that persists,
or a refusal, hands the message to the next channel.

The job (`notifications.jobs`) drives it in short transactions:
`next_step` picks and claims the delivery to try now, the channel sends with
no transaction open, `record` writes the outcome. A claim holds the row for
CLAIM_SECONDS, so a worker that dies mid-send leaves it to `due_notifications`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from partner_club.accounts.models import User
from partner_club.notifications.channels import CHANNELS, FALLBACK, Outcome, Outgoing
from partner_club.notifications.kinds import GROUPS, KINDS, render_kind
from partner_club.notifications.models import (
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationPreference,
    PushSubscription,
)
from partner_club.notifications.zones import person_zone, quiet_until

CLAIM_SECONDS = 300
DEFAULT_RETRY_INTERVALS = (60, 300, 1800)
# With no preference row, every outside channel is allowed, in the fallback order.
DEFAULT_CHANNELS: dict[str, tuple[str, ...]] = dict.fromkeys(GROUPS, FALLBACK)

WAITING, SENT, FAILED, SKIPPED = (s.value for s in DeliveryStatus)


def allowed_channels(session: Session, user_id: int, group: str) -> tuple[str, ...]:
    """The outside channels the person allows for a group, in the fallback order."""
    chosen = session.scalar(
        select(NotificationPreference.channels).where(
            NotificationPreference.user_id == user_id, NotificationPreference.group == group
        )
    )
    if chosen is None:
        return DEFAULT_CHANNELS.get(group, FALLBACK)
    names = {name.strip() for name in chosen.split(",")}
    return tuple(name for name in FALLBACK if name in names)


def set_channels(session: Session, user_id: int, group: str, channels: Sequence[str]) -> None:
    """Records a person's choice of outside channels for a group ([] switches them off)."""
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}")
    unknown = set(channels) - set(FALLBACK)
    if unknown:
        raise ValueError(f"unknown channels: {', '.join(sorted(unknown))}")
    value = ",".join(name for name in FALLBACK if name in channels)
    row = session.scalar(
        select(NotificationPreference).where(
            NotificationPreference.user_id == user_id, NotificationPreference.group == group
        )
    )
    if row is None:
        session.add(NotificationPreference(user_id=user_id, group=group, channels=value))
    else:
        row.channels = value
    session.flush()


def _retry_intervals(config: Mapping[str, Any]) -> list[int]:
    return [int(s) for s in config.get("NOTIFY_RETRY_INTERVALS", DEFAULT_RETRY_INTERVALS)]


def _not_in_the_night(moment: datetime, zone: Any, urgent: bool) -> datetime:
    if urgent:
        return moment
    return quiet_until(moment, zone) or moment


def next_step(
    session: Session, notification_id: int, *, now: datetime, config: Mapping[str, Any]
) -> Outgoing | None:
    """The delivery to try now, claimed and rendered; None when the message is done or waits.

    Channels the person refused or lacks are recorded as skipped on the way.
    """
    notification = session.get(Notification, notification_id)
    if notification is None:
        return None
    user = session.get_one(User, notification.user_id)
    kind = KINDS.get(notification.kind)
    group = kind.group if kind else "mailings"
    urgent = kind.urgent if kind else False
    allowed = allowed_channels(session, user.id, group)
    rows = {row.channel: row for row in notification.deliveries}
    zone = None
    for name in FALLBACK:
        row = rows.get(name)
        if row is not None and row.status == SENT:
            return None
        if row is not None and row.status in (FAILED, SKIPPED):
            continue
        channel = CHANNELS[name]
        reason = _refusal(name, allowed, user) or channel.lacks(session, user, config)
        if row is None:
            row = Delivery(notification_id=notification.id, channel=name, status=WAITING)
            notification.deliveries.append(row)
            if reason is None:
                zone = zone or person_zone(session, user, config)
                row.not_before = quiet_until(now, zone) if not urgent else None
                row.next_attempt_at = row.not_before
        if reason is not None:
            row.status, row.reason, row.next_attempt_at = SKIPPED, reason, None
            continue
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            session.flush()
            return None  # the night, a back-off, or another worker's claim
        if row.id is None:  # new in this transaction: the unique (notification, channel) guards it
            row.attempts, row.next_attempt_at = 1, now + timedelta(seconds=CLAIM_SECONDS)
            session.flush()
        elif not claim(session, row, now=now):
            return None  # another worker took it first
        return _outgoing(session, notification, row, user, config)
    session.flush()
    return None


def claim(session: Session, row: Delivery, *, now: datetime) -> bool:
    """Takes a due delivery for one attempt; False when another worker already has.

    One conditional UPDATE on the attempts this worker saw: of two workers
    that read the same due row, only the first one's update matches.
    """
    seen = row.attempts
    taken = session.execute(
        update(Delivery)
        .where(Delivery.id == row.id, Delivery.status == WAITING, Delivery.attempts == seen)
        .values(attempts=seen + 1, next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)
    return int(getattr(taken, "rowcount", 0) or 0) == 1


def _refusal(name: str, allowed: tuple[str, ...], user: User) -> str | None:
    if user.is_blocked:
        return "the person is blocked"
    if name not in allowed:
        return "switched off in the person's choices"
    return None


def _outgoing(
    session: Session, notification: Notification, row: Delivery, user: User, config: Mapping[str, Any]
) -> Outgoing:
    locale = user.locale or config.get("BABEL_DEFAULT_LOCALE", "ru")
    kind = KINDS.get(notification.kind)
    title, body = render_kind(notification.kind, notification.params or {}, locale)
    base = str(config.get("PUBLIC_URL", "")).rstrip("/")
    outgoing = Outgoing(
        delivery_id=row.id,
        notification_id=notification.id,
        channel=row.channel,
        title=title,
        body=body,
        url=_url(base, notification, row.channel),
        locale=locale,
        mailing=bool(kind and kind.mailing),
    )
    CHANNELS[row.channel].prepare(session, user, config, outgoing)
    return outgoing


def _url(base: str, notification: Notification, channel: str) -> str | None:
    """Where the message leads: through the click-through that marks it read and opened,
    except in an SMS, where every character costs and the page's own address is shorter."""
    if channel == "sms":
        return f"{base}{notification.link}" if notification.link else None
    return f"{base}/notifications/{notification.id}/open?via={channel}"


def record(
    session: Session, delivery_id: int, outcome: Outcome, *, now: datetime, config: Mapping[str, Any]
) -> Delivery:
    """Writes a send's outcome; a passing failure waits for its back-off, a lasting one gives up."""
    row = session.get_one(Delivery, delivery_id)
    row.reason = outcome.reason
    if outcome.expired_subscriptions:
        for subscription in session.scalars(
            select(PushSubscription).where(PushSubscription.id.in_(outcome.expired_subscriptions))
        ):
            subscription.expired_at = subscription.expired_at or now
    if outcome.status == "sent":
        row.status, row.sent_at, row.next_attempt_at = SENT, now, None
        row.provider_id = outcome.provider_id
    elif outcome.status == "retry" and row.attempts <= len(_retry_intervals(config)):
        wait = timedelta(seconds=_retry_intervals(config)[row.attempts - 1])
        notification = session.get_one(Notification, row.notification_id)
        user = session.get_one(User, notification.user_id)
        kind = KINDS.get(notification.kind)
        zone = person_zone(session, user, config)
        row.status = WAITING
        row.next_attempt_at = _not_in_the_night(now + wait, zone, bool(kind and kind.urgent))
    else:
        row.status, row.next_attempt_at = FAILED, None
        if outcome.status == "retry":
            row.reason = f"gave up after {row.attempts} attempts: {outcome.reason}"
    session.flush()
    return row


def due_notifications(session: Session, *, now: datetime, limit: int = 1000) -> list[int]:
    """Notifications with a delivery waiting whose time has come (mornings, retries, lost claims)."""
    return list(
        session.scalars(
            select(Delivery.notification_id)
            .where(Delivery.status == WAITING, Delivery.next_attempt_at <= now)
            .group_by(Delivery.notification_id)
            .order_by(func.min(Delivery.next_attempt_at))
            .limit(limit)
        )
    )
