"""Support tickets, their threads, and the pictures people attach.

A ticket belongs to the person who wrote it and, for staff scope, to the
shop that person worked at when writing (reps and regional managers see the
tickets of their shops; tickets of people without a shop are seen by the
admins and head office). `waiting_since` is when the ball last came back to
staff (the ticket or the participant's latest reply): the queue sorts by it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partner_club.accounts.models import User
from partner_club.database import UTCDateTime, enum_check, utcnow
from partner_club.extensions import Model
from partner_club.outlets.models import Outlet


class Topic(str, enum.Enum):
    QUESTION = "question"
    CODE = "code"  # a problem with a code
    PRIZE = "prize"  # a prize or an order
    FEEDBACK = "feedback"
    OTHER = "other"


class Status(str, enum.Enum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"  # for the participant
    RESOLVED = "resolved"


TOPIC_LABELS = {
    Topic.QUESTION: _l("Question"),
    Topic.CODE: _l("Problem with a code"),
    Topic.PRIZE: _l("Prize or order"),
    Topic.FEEDBACK: _l("Feedback"),
    Topic.OTHER: _l("Other"),
}

STATUS_LABELS = {
    Status.NEW: _l("New"),
    Status.IN_PROGRESS: _l("In progress"),
    Status.WAITING: _l("Waiting for the participant"),
    Status.RESOLVED: _l("Resolved"),
}

# Staff still owe an answer on these.
OPEN = (Status.NEW.value, Status.IN_PROGRESS.value)


class Ticket(Model):
    __tablename__ = "support_tickets"
    __table_args__ = (
        enum_check("topic", Topic, "support_tickets_topic_valid"),
        enum_check("status", Status, "support_tickets_status_valid"),
        Index("ix_support_tickets_status_waiting", "status", "waiting_since"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"), index=True)
    topic: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=Status.NEW.value)
    page: Mapped[str | None] = mapped_column(String(500))  # the page it was sent from
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    waiting_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    outlet: Mapped[Outlet | None] = relationship()
    messages: Mapped[list[Message]] = relationship(
        back_populates="ticket", order_by="Message.id", cascade="all, delete-orphan"
    )

    @property
    def topic_label(self) -> str:
        return str(TOPIC_LABELS[Topic(self.topic)])

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[Status(self.status)])

    @property
    def summary(self) -> str:
        """The first line of the question, short enough for a list."""
        first = self.messages[0].body if self.messages else ""
        line = first.strip().splitlines()[0] if first.strip() else ""
        return line if len(line) <= 80 else line[:79] + "…"


class Message(Model):
    __tablename__ = "support_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("support_tickets.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    from_staff: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author: Mapped[User] = relationship()
    photo: Mapped[Photo | None] = relationship(
        back_populates="message", uselist=False, cascade="all, delete-orphan", lazy="selectin"
    )


class Photo(Model):
    """A picture attached to a message, re-encoded from its pixels (no metadata survives)."""

    __tablename__ = "support_photos"
    __table_args__ = (
        CheckConstraint("mimetype IN ('image/jpeg', 'image/png')", name="support_photos_mimetype_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("support_messages.id", ondelete="CASCADE"), unique=True
    )
    mimetype: Mapped[str] = mapped_column(String(16))
    width: Mapped[int]
    height: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    message: Mapped[Message] = relationship(back_populates="photo")
