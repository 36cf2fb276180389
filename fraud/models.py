"""What fraud remembers: every attempt it saw, its decision, and review cases.

`FraudObservation` is both the detectors' history (live) and the decision
record: one row per registration attempt, valid or not, with the score and
reasons of the decision taken on it. A held attempt opens a `ReviewCase`.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

import partner_club.models  # noqa: F401 - the core mappers our relationships name
from partner_club.accounts.models import User
from partner_club.database import UTCDateTime, enum_check, utcnow
from partner_club.extensions import Model
from partner_club.outlets.models import Outlet


class Decision(str, enum.Enum):
    ACCEPT = "accept"
    HOLD = "hold"
    REJECT = "reject"


class CaseStatus(str, enum.Enum):
    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"


class CaseAction(str, enum.Enum):
    NONE = "none"
    WARN = "warn"
    BLOCK = "block"


class FraudObservation(Model):
    __tablename__ = "fraud_observations"
    __table_args__ = (
        enum_check("decision", Decision),
        CheckConstraint("score >= 0", name="score_not_negative"),
        Index("ix_fraud_obs_participant_at", "participant_id", "at"),
        Index("ix_fraud_obs_outlet_at", "outlet_id", "at"),
        Index("ix_fraud_obs_ip_at", "ip", "at"),
        Index("ix_fraud_obs_device_at", "device", "at"),
        Index("ix_fraud_obs_batch_serial", "batch_id", "serial"),
        # A person's last codes of one batch (the roll rule): without it PostgreSQL reads the
        # whole batch's rows, which grows with the batch.
        Index("ix_fraud_obs_participant_batch_at", "participant_id", "batch_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    channel: Mapped[str] = mapped_column(String(16), default="typed")
    ip: Mapped[str | None] = mapped_column(String(64))
    device: Mapped[str | None] = mapped_column(String(128))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    code: Mapped[str | None] = mapped_column(String(32))
    # Why the code itself was refused ("bad_check_symbol", ...); None when it decoded.
    failure: Mapped[str | None] = mapped_column(String(32))
    batch_id: Mapped[int | None] = mapped_column()
    serial: Mapped[int | None] = mapped_column()
    # Length of this person's run of neighbouring serials in the batch, this one included.
    run_length: Mapped[int] = mapped_column(default=0)
    run_start: Mapped[int | None] = mapped_column()
    # How many registrations in a row came faster than a person can type or scan.
    fast_streak: Mapped[int] = mapped_column(default=0)
    registration_id: Mapped[int | None] = mapped_column(index=True)
    decision: Mapped[str] = mapped_column(String(8), default=Decision.ACCEPT.value)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    participant: Mapped[User] = relationship(foreign_keys=[participant_id])
    outlet: Mapped[Outlet | None] = relationship()

    @property
    def valid(self) -> bool:
        return self.failure is None


class ReviewCase(Model):
    """A held registration waiting for a person's decision."""

    __tablename__ = "fraud_cases"
    __table_args__ = (
        enum_check("status", CaseStatus),
        enum_check("action", CaseAction),
        CheckConstraint("status = 'open' OR reviewer_id IS NOT NULL", name="closed_case_has_reviewer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("fraud_observations.id"), unique=True)
    registration_id: Mapped[int | None] = mapped_column(index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN.value, index=True)
    action: Mapped[str] = mapped_column(String(8), default=CaseAction.NONE.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Unanswered longer than `fraud.review_sla_hours`: the region's manager was told.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)

    observation: Mapped[FraudObservation] = relationship()
    participant: Mapped[User] = relationship(foreign_keys=[participant_id])
    outlet: Mapped[Outlet | None] = relationship()
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
