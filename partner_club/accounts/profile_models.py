"""A pending change of the person's e-mail or phone: the one-time code sent to the new address."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from partner_club.database import UTCDateTime, enum_check, utcnow
from partner_club.extensions import Model


class ContactField(str, enum.Enum):
    EMAIL = "email"
    PHONE = "phone"


class ContactConfirmation(Model):
    """One code sent to a new e-mail or phone; only its salted hash is kept.

    The change lands on the person only when the code comes back in time and
    within the allowed attempts; a newer code for the same field supersedes
    the older (`used_at` set without a change)."""

    __tablename__ = "contact_confirmations"
    __table_args__ = (
        enum_check("field", ContactField),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_contact_confirmations_user_created", "user_id", "created_at"),
        Index("ix_contact_confirmations_value_created", "value", "created_at"),  # codes per address
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(254))  # the new address or number (normalised)
    code_hash: Mapped[str] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
