"""Mailings to segments of people, who got each one, and lists of people to call."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partner_club.accounts.models import User
from partner_club.database import UTCDateTime, enum_check, utcnow
from partner_club.extensions import Model
from partner_club.outlets.models import Outlet


class MailingStatus(str, enum.Enum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"


class RecipientStatus(str, enum.Enum):
    SENT = "sent"  # the notification was written with this row
    CAPPED = "capped"  # over the frequency cap: skipped
    UNSUBSCRIBED = "unsubscribed"  # mailings switched off: skipped


class CallOutcome(str, enum.Enum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    WILL_REGISTER = "will_register"


class Mailing(Model):
    __tablename__ = "mailings"
    __table_args__ = (
        enum_check("status", MailingStatus),
        CheckConstraint("status <> 'scheduled' OR send_at IS NOT NULL", name="scheduled_has_time"),
        CheckConstraint("audience >= 0", name="audience_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title_ru: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body_ru: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    # Outside channels chosen, comma-separated ("push,sms,email"); the in-app list always gets it.
    channels: Mapped[str] = mapped_column(String(64), default="")
    segment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=MailingStatus.DRAFT.value, index=True)
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    audience: Mapped[int] = mapped_column(default=0)  # people in the segment when sending began
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    # The region of a regional manager's mailing (their scope); empty: the whole club.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    @property
    def channel_list(self) -> list[str]:
        return [name for name in self.channels.split(",") if name]

    def title_in(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_ru


class MailingRecipient(Model):
    """One row per person a mailing reached or passed over: what makes a resend impossible.

    Written in the same transaction as the person's notification, so a worker
    killed mid-batch leaves either both or neither.
    """

    __tablename__ = "mailing_recipients"
    __table_args__ = (
        UniqueConstraint("mailing_id", "user_id", name="uq_mailing_recipient"),
        enum_check("status", RecipientStatus),
        Index("ix_mailing_recipients_user_sent", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CallList(Model):
    __tablename__ = "call_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(300), default="")
    segment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)  # as a mailing's
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    entries: Mapped[list[CallEntry]] = relationship(
        back_populates="call_list", order_by="CallEntry.id", cascade="all, delete-orphan"
    )


class CallEntry(Model):
    """A person to call, frozen when the list was made, and what the call gave."""

    __tablename__ = "call_list_entries"
    __table_args__ = (
        UniqueConstraint("call_list_id", "user_id", name="uq_call_list_person"),
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('reached', 'no_answer', 'wrong_number', 'will_register')",
            name="outcome_valid",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_list_id: Mapped[int] = mapped_column(ForeignKey("call_lists.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id", ondelete="SET NULL"))
    last_registration_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    called_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    call_list: Mapped[CallList] = relationship(back_populates="entries")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    outlet: Mapped[Outlet | None] = relationship()
