"""What the club told whom: the in-app list, each channel's delivery, choices, push subscriptions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partner_club.database import UTCDateTime, enum_check, utcnow
from partner_club.extensions import Model


class DeliveryStatus(str, enum.Enum):
    WAITING = "waiting"  # quiet hours, or a retry after a failed attempt
    SENT = "sent"
    FAILED = "failed"  # given up on this channel, with a reason; the next one is tried
    SKIPPED = "skipped"  # not tried: the person lacks or refused the channel (reason says which)


class Notification(Model):
    """One message to one person; the in-app list shows these rows."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(80))
    # Rendered when shown or sent, in the reader's language (services.render).
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The mailing that sent it (no foreign key: mailings live in their own package).
    mailing_id: Mapped[int | None] = mapped_column(index=True)

    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="notification", order_by="Delivery.id", cascade="all, delete-orphan"
    )


class Delivery(Model):
    """A notification's trip through one outside channel (or its reason for not taking it)."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel", name="uq_delivery_notification_channel"),
        enum_check("status", DeliveryStatus),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.WAITING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    # Quiet hours: not before 08:00 in the person's time zone.
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a waiting delivery is tried (again): the later of not_before and the back-off.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_id: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    notification: Mapped[Notification] = relationship(back_populates="deliveries")


class NotificationPreference(Model):
    """The channels a person chose for a group of messages; no row: the defaults."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "group", name="uq_preference_user_group"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    group: Mapped[str] = mapped_column(String(32))
    # Comma-separated channel names, e.g. "push,email"; "" switches the group's outside channels off.
    channels: Mapped[str] = mapped_column(String(100), default="")


class PushSubscription(Model):
    """A browser's Web Push subscription (the endpoint and the keys to encrypt for it)."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The push service answered 404/410: the browser dropped it; never used again.
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
