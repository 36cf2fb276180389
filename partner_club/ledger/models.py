"""The points ledger: accounts with balances, append-only entries, point lots.

Entries are the truth and are never updated or deleted. Balances (on the
account) and lots (which points are left, oldest first, and when they expire)
are state kept beside the entries in the same transaction; `points check`
proves they agree.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from partner_club.database import UTCDateTime, enum_check, utcnow
from partner_club.extensions import Model

if TYPE_CHECKING:
    from partner_club.accounts.models import User
    from partner_club.outlets.models import Outlet


class AccountKind(str, enum.Enum):
    PERSON = "person"
    OUTLET = "outlet"  # a shop's collective account


class EntryKind(str, enum.Enum):
    ACCRUAL = "accrual"
    ACTION = "action"
    REDEMPTION = "redemption"
    REFUND = "refund"
    EXPIRY = "expiry"
    REVERSAL = "reversal"
    ADJUSTMENT = "adjustment"
    CONFIRMATION = "confirmation"
    REJECTION = "rejection"


class Bucket(str, enum.Enum):
    ACTIVE = "active"
    PENDING = "pending"  # held for review


class Account(Model):
    __tablename__ = "point_accounts"
    __table_args__ = (
        enum_check("kind", AccountKind),
        CheckConstraint("active >= 0", name="active_not_negative"),
        CheckConstraint("pending >= 0", name="pending_not_negative"),
        CheckConstraint(
            "(kind = 'person' AND user_id IS NOT NULL AND outlet_id IS NULL) OR "
            "(kind = 'outlet' AND outlet_id IS NOT NULL AND user_id IS NULL)",
            name="one_holder",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"), unique=True)
    active: Mapped[int] = mapped_column(default=0)
    pending: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    outlet: Mapped[Outlet | None] = relationship(foreign_keys=[outlet_id])

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.kind} active={self.active} pending={self.pending}>"


class LedgerEntry(Model):
    """One change of one bucket of one account. Never updated, never deleted."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        enum_check("kind", EntryKind),
        enum_check("bucket", Bucket),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("kind <> 'reversal' OR reverses_id IS NOT NULL", name="reversal_names_entry"),
        Index("ix_ledger_entries_cause", "cause_type", "cause_id"),
        Index("ix_ledger_entries_account_created", "account_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("point_accounts.id"))
    kind: Mapped[str] = mapped_column(String(16))
    bucket: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int]  # signed: + credit, - debit
    cause_type: Mapped[str] = mapped_column(String(32))
    cause_id: Mapped[str | None] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)
    # A reversal names the entry it undoes; unique, so nothing is undone twice.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    # Where the points came from: [{"source": "base"|"campaign"|..., "points": n, ...}], adding up
    # to `amount` (credits only; see `partner_club.ledger.credits`).
    breakdown: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    account: Mapped[Account] = relationship()
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    reverses: Mapped[LedgerEntry | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<LedgerEntry {self.id} {self.kind} {self.bucket} {self.amount:+d}>"


class PointLot(Model):
    """Active points earned together: spent oldest first, expiring together.

    `remaining` shrinks as points are spent or expire; the sum of `remaining`
    over an account's lots equals its active balance.
    """

    __tablename__ = "point_lots"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_within_amount"),
        Index("ix_point_lots_account_earned", "account_id", "earned_at"),
        Index("ix_point_lots_expires", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("point_accounts.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    earned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    amount: Mapped[int]
    remaining: Mapped[int]
    # When the owner was told these points are about to expire (once per lot).
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship()
    entry: Mapped[LedgerEntry] = relationship()
