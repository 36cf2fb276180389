"""Reconciliation: the entries, the balances and the lots must tell one story."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from partner_club.ledger.models import Account, LedgerEntry, PointLot


@dataclass(frozen=True)
class Disagreement:
    account_id: int
    bucket: str  # "active", "pending", or "lots" (points left in lots vs the active balance)
    balance: int
    entries: int  # what the entries (or, for "lots", the lots) add up to


def disagreements(session: Session) -> list[Disagreement]:
    """Every account whose balances differ from the sum of its entries or its lots."""
    sums = (
        select(
            LedgerEntry.account_id.label("account_id"),
            func.sum(case((LedgerEntry.bucket == "active", LedgerEntry.amount), else_=0)).label("active"),
            func.sum(case((LedgerEntry.bucket == "pending", LedgerEntry.amount), else_=0)).label("pending"),
        )
        .group_by(LedgerEntry.account_id)
        .subquery()
    )
    lots = (
        select(PointLot.account_id.label("account_id"), func.sum(PointLot.remaining).label("remaining"))
        .group_by(PointLot.account_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Account.id,
            Account.active,
            Account.pending,
            func.coalesce(sums.c.active, 0),
            func.coalesce(sums.c.pending, 0),
            func.coalesce(lots.c.remaining, 0),
        )
        .outerjoin(sums, sums.c.account_id == Account.id)
        .outerjoin(lots, lots.c.account_id == Account.id)
        .order_by(Account.id)
    ).all()
    found = []
    for account_id, active, pending, entry_active, entry_pending, lot_remaining in rows:
        if active != entry_active:
            found.append(Disagreement(account_id, "active", active, int(entry_active)))
        if pending != entry_pending:
            found.append(Disagreement(account_id, "pending", pending, int(entry_pending)))
        if active != lot_remaining:
            found.append(Disagreement(account_id, "lots", active, int(lot_remaining)))
    # Entries of an account that no longer exists cannot happen (foreign key), so
    # walking the accounts covers every entry.
    return found
