"""Products and their points rules, batches of codes, and registrations.

Codes themselves are never stored (see codes/scheme.py): a batch is a row
with a number, a key version and a count; a registration stores the
(batch, serial) pair under a unique constraint, which is what makes a second
registration of the same code impossible, also under concurrency.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

import partner_club.models  # noqa: F401 - the core mappers our relationships name
from partner_club.accounts.models import User
from partner_club.database import UTCDateTime, enum_check, utcnow
from partner_club.extensions import Model
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region


class RuleKind(str, enum.Enum):
    FIXED = "fixed"  # points per package
    PER_M3 = "per_m3"  # points per cubic metre times the package volume


class Product(Model):
    __tablename__ = "products"
    __table_args__ = (
        enum_check("rule_kind", RuleKind, name="products_rule_kind_valid"),
        CheckConstraint("rule_value >= 0", name="products_rule_value_positive"),
        CheckConstraint("volume_m3 IS NULL OR volume_m3 >= 0", name="products_volume_positive"),
        CheckConstraint("rule_kind <> 'per_m3' OR volume_m3 IS NOT NULL", name="products_per_m3_has_volume"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64), default="")  # product type
    package: Mapped[str] = mapped_column(String(64), default="")  # package type
    volume_m3: Mapped[float | None] = mapped_column(Float)
    rule_kind: Mapped[str] = mapped_column(String(16), default=RuleKind.FIXED.value)
    rule_value: Mapped[float] = mapped_column(Float, default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rule_changes: Mapped[list[ProductRuleChange]] = relationship(
        back_populates="product", order_by="ProductRuleChange.changed_at.desc()"
    )

    @property
    def points(self) -> int:
        """Points one package of this product earns before campaigns."""
        return package_points(self.rule_kind, self.rule_value, self.volume_m3)

    @property
    def rule_text(self) -> str:
        return format_rule(self.rule_kind, self.rule_value)


def package_points(rule_kind: str, rule_value: float, volume_m3: float | None) -> int:
    """Points one package earns by its product's rule, before campaigns."""
    if rule_kind == RuleKind.PER_M3.value:
        return round(rule_value * (volume_m3 or 0))
    return round(rule_value)


def format_rule(kind: str, value: float) -> str:
    number = f"{value:g}"
    return f"{number}/m3" if kind == RuleKind.PER_M3.value else number


class ProductRuleChange(Model):
    """History of a product's points rule: one row per change, newest wins."""

    __tablename__ = "product_rule_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    rule_kind: Mapped[str] = mapped_column(String(16))
    rule_value: Mapped[float] = mapped_column(Float)
    volume_m3: Mapped[float | None] = mapped_column(Float)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(32), default="admin")  # admin | import

    product: Mapped[Product] = relationship(back_populates="rule_changes")
    changed_by: Mapped[User | None] = relationship()

    @property
    def rule_text(self) -> str:
        return format_rule(self.rule_kind, self.rule_value)


class BatchStatus(str, enum.Enum):
    GENERATED = "generated"
    PRINTED = "printed"
    ACTIVATED = "activated"  # shipped: only now do its codes earn points
    VOIDED = "voided"


BATCH_STATUS_LABELS = {
    BatchStatus.GENERATED: _l("generated"),
    BatchStatus.PRINTED: _l("printed"),
    BatchStatus.ACTIVATED: _l("activated"),
    BatchStatus.VOIDED: _l("voided"),
}

# Allowed moves; voiding is possible from every state but the last.
BATCH_TRANSITIONS = {
    BatchStatus.GENERATED: {BatchStatus.PRINTED, BatchStatus.ACTIVATED, BatchStatus.VOIDED},
    BatchStatus.PRINTED: {BatchStatus.ACTIVATED, BatchStatus.VOIDED},
    BatchStatus.ACTIVATED: {BatchStatus.VOIDED},
    BatchStatus.VOIDED: set(),
}


class Batch(Model):
    """Serials 1..count of a batch number, under one key version."""

    __tablename__ = "batches"
    __table_args__ = (
        enum_check("status", BatchStatus, name="batches_status_valid"),
        CheckConstraint("count > 0", name="batches_count_positive"),
        CheckConstraint("number > 0 AND number < 16777216", name="batches_number_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    key_version: Mapped[int]
    count: Mapped[int]
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    distributor: Mapped[str | None] = mapped_column(String(200))
    production_lot: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default=BatchStatus.GENERATED.value, index=True)
    # Canary codes are issued and never printed: a registration of one means a leak.
    is_canary: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    product: Mapped[Product] = relationship()
    region: Mapped[Region | None] = relationship()
    voided_ranges: Mapped[list[VoidedRange]] = relationship(
        back_populates="batch", order_by="VoidedRange.from_serial"
    )

    @property
    def status_label(self) -> str:
        return str(BATCH_STATUS_LABELS[BatchStatus(self.status)])

    def can_move_to(self, status: BatchStatus) -> bool:
        return status in BATCH_TRANSITIONS[BatchStatus(self.status)]


class VoidedRange(Model):
    """A serial range voided on its own (a damaged roll of labels)."""

    __tablename__ = "voided_ranges"
    __table_args__ = (
        CheckConstraint("from_serial >= 1 AND from_serial <= to_serial", name="voided_range_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    from_serial: Mapped[int]
    to_serial: Mapped[int]
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    batch: Mapped[Batch] = relationship(back_populates="voided_ranges")


class RegistrationStatus(str, enum.Enum):
    ACCEPTED = "accepted"
    PENDING_REVIEW = "pending_review"
    REJECTED = "rejected"


REGISTRATION_STATUS_LABELS = {
    RegistrationStatus.ACCEPTED: _l("accepted"),
    RegistrationStatus.PENDING_REVIEW: _l("under review"),
    RegistrationStatus.REJECTED: _l("rejected"),
}

# "photo": codes read from one uploaded picture, registered in the same instant.
CHANNELS = ("typed", "qr", "link", "scan", "photo", "api")


class Registration(Model):
    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("batch_id", "serial", name="registrations_one_per_code"),
        enum_check("status", RegistrationStatus, name="registrations_status_valid"),
        CheckConstraint("points >= 0", name="registrations_points_positive"),
        CheckConstraint("serial >= 1", name="registrations_serial_positive"),
        Index("ix_registrations_participant_created", "participant_id", "created_at"),
        Index("ix_registrations_outlet_created", "outlet_id", "created_at"),
        # The few registrations the rollups have not taken in yet (reports.rollups.fold_registrations).
        Index(
            "ix_registrations_unfolded",
            "created_at",
            postgresql_where=text("NOT folded"),
            sqlite_where=text("NOT folded"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    serial: Mapped[int]
    participant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16), default="typed")
    status: Mapped[str] = mapped_column(String(16), default=RegistrationStatus.ACCEPTED.value, index=True)
    points: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    device: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_note: Mapped[str | None] = mapped_column(Text)
    # Counted in the KPI rollups yet: a job folds new registrations in within a minute.
    folded: Mapped[bool] = mapped_column(default=False, server_default=false())

    batch: Mapped[Batch] = relationship()
    product: Mapped[Product] = relationship()
    participant: Mapped[User] = relationship(foreign_keys=[participant_id])
    outlet: Mapped[Outlet | None] = relationship()

    @property
    def status_label(self) -> str:
        return str(REGISTRATION_STATUS_LABELS[RegistrationStatus(self.status)])


class RegistrationRequest(Model):
    """A registration request named by the client (`client_id`, e.g. a UUID from the phone's
    outbox) and the first answer given to it: a resend of the same id gets that answer back,
    so retries are safe whatever the browser or the network does.

    The row is inserted first in the registering transaction and holds the answer when it
    commits; a parallel request with the same id waits on the unique constraint and then
    reads the stored answer.
    """

    __tablename__ = "registration_requests"
    __table_args__ = (
        UniqueConstraint("participant_id", "client_id", name="registration_requests_one_per_client_id"),
        CheckConstraint("status BETWEEN 100 AND 599", name="status_http"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]  # the HTTP status of the first answer
    body: Mapped[str] = mapped_column(Text)  # the first answer's JSON
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
