"""Every movement of points: the one way other packages change a balance.

Each operation locks the account row before it reads the balance (SELECT ...
FOR UPDATE on PostgreSQL; crediting a registration needs no balance read, and
its UPDATE takes the lock), so parallel transactions queue instead of
overdrawing; the CHECK constraints on the balances are the last guard.
Services flush, never commit. A registration's credit, the hot path, is in
`credits.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from partner_club.accounts.models import User
from partner_club.audit.services import record
from partner_club.database import savepoint, utcnow
from partner_club.errors import Conflict, Invalid, NotFound
from partner_club.ledger.credits import CreditKind, actor_id_of, credit, require_positive
from partner_club.ledger.models import Account, AccountKind, Bucket, EntryKind, LedgerEntry, PointLot
from partner_club.ledger.policy import (
    ExpiryPolicy,
    PointValue,
    RegistrationRule,
    expiry_policy,
    store_expiry_policy,
    store_point_value,
    store_registration_rule,
)
from partner_club.outlets.models import Outlet


class InsufficientPoints(Conflict):
    code = "insufficient_points"

    def __init__(self, message: Any = None, **details: Any) -> None:
        super().__init__(message or _l("Not enough points."), **details)


@dataclass(frozen=True)
class Balance:
    active: int = 0
    pending: int = 0


CREDIT_KINDS = frozenset({EntryKind.ACCRUAL, EntryKind.ACTION, EntryKind.REFUND, EntryKind.ADJUSTMENT})
NOT_REVERSIBLE = frozenset({EntryKind.REVERSAL, EntryKind.CONFIRMATION, EntryKind.REJECTION})


# --- accounts -------------------------------------------------------------


def account_for_user(session: Session, user: User) -> Account:
    return _get_or_create(session, Account.user_id, user.id, AccountKind.PERSON)


def account_for_outlet(session: Session, outlet: Outlet) -> Account:
    return _get_or_create(session, Account.outlet_id, outlet.id, AccountKind.OUTLET)


def _get_or_create(session: Session, column, holder_id: int, kind: AccountKind) -> Account:
    account = session.scalar(select(Account).where(column == holder_id))
    if account is not None:
        return account
    # A parallel transaction may create the same account: the unique holder
    # column decides, and the loser reads the winner's row.
    try:
        with savepoint(session):
            account = Account(kind=kind.value, active=0, pending=0, **{column.key: holder_id})
            session.add(account)
            session.flush()
        return account
    except IntegrityError:
        return session.scalars(select(Account).where(column == holder_id)).one()


def balance_of(session: Session, user: User) -> Balance:
    account = session.scalar(select(Account).where(Account.user_id == user.id))
    return Balance() if account is None else Balance(account.active, account.pending)


def _lock(session: Session, account_id: int) -> Account:
    """The account row, locked for the rest of the transaction, with fresh balances."""
    statement = (
        select(Account)
        .where(Account.id == account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    account = session.scalars(statement).one_or_none()
    if account is None:
        raise NotFound(_l("This points account does not exist."), code="no_account")
    return account


# --- credits: every one goes through credits.credit ---------------------------


def accrue(
    session: Session,
    account: Account,
    amount: int,
    *,
    cause_type: str,
    cause_id: Any,
    actor: User | None = None,
    kind: str = "accrual",
    at: datetime | None = None,
    reason: str | None = None,
) -> LedgerEntry:
    """Active points, earned now (or at `at`), spendable at once; the entry written."""
    if kind not in {k.value for k in CreditKind} or kind in (
        CreditKind.HOLD.value,
        CreditKind.REVERSAL.value,
    ):
        raise Invalid(_l("Points cannot be credited as %(kind)s.", kind=kind), code="bad_entry_kind")
    written = credit(
        session,
        account,
        amount,
        cause_type=cause_type,
        cause_id=cause_id,
        kind=kind,
        actor=actor,
        at=at,
        reason=reason,
    )
    return session.get_one(LedgerEntry, written[0].entry_id)


def hold(
    session: Session,
    account: Account,
    amount: int,
    *,
    cause_type: str,
    cause_id: Any,
    actor: User | None = None,
    at: datetime | None = None,
) -> LedgerEntry:
    """Pending points: counted, but not spendable until confirmed."""
    written = credit(
        session,
        account,
        amount,
        cause_type=cause_type,
        cause_id=cause_id,
        kind=CreditKind.HOLD,
        actor=actor,
        at=at,
    )
    return session.get_one(LedgerEntry, written[0].entry_id)


def refund(
    session: Session,
    account: Account,
    amount: int,
    *,
    cause_type: str,
    cause_id: Any,
    actor: User | None = None,
    at: datetime | None = None,
) -> LedgerEntry:
    """Points given back (a cancelled order): a fresh lot, earned now."""
    return accrue(
        session,
        account,
        amount,
        cause_type=cause_type,
        cause_id=cause_id,
        actor=actor,
        kind=EntryKind.REFUND.value,
        at=at,
    )


# --- pending: confirm or reject -------------------------------------------


def confirm(
    session: Session, *, cause_type: str, cause_id: Any, actor: User | None = None, at: datetime | None = None
) -> list[LedgerEntry]:
    """Moves the pending points of a cause to active (two entries per account)."""
    entries: list[LedgerEntry] = []
    at = at or utcnow()
    for account, net in _settle_pending(session, cause_type, cause_id):
        entries.append(
            _write(
                session,
                account,
                EntryKind.CONFIRMATION,
                Bucket.PENDING,
                -net,
                cause_type=cause_type,
                cause_id=cause_id,
                actor=actor,
                at=at,
            )
        )
        made_active = credit(
            session,
            account,
            net,
            cause_type=cause_type,
            cause_id=cause_id,
            kind=CreditKind.CONFIRMATION,
            breakdown=_breakdown_of(session, account.id, cause_type, cause_id, net),
            actor=actor,
            at=at,
        )
        entries.append(session.get_one(LedgerEntry, made_active[0].entry_id))
    session.flush()
    return entries


def reject(
    session: Session, *, cause_type: str, cause_id: Any, actor: User | None = None, reason: str = ""
) -> list[LedgerEntry]:
    """Removes the pending points of a cause."""
    entries = [
        _write(
            session,
            account,
            EntryKind.REJECTION,
            Bucket.PENDING,
            -net,
            cause_type=cause_type,
            cause_id=cause_id,
            actor=actor,
            at=utcnow(),
            reason=reason or None,
        )
        for account, net in _settle_pending(session, cause_type, cause_id)
    ]
    session.flush()
    return entries


def _settle_pending(session: Session, cause_type: str, cause_id: Any) -> list[tuple[Account, int]]:
    """(locked account, pending points of the cause) for each account the cause touched.

    Accounts are locked before the pending sums are read, so two reviewers
    settling the same cause at once cannot both move the points.
    """
    cause = _cause_filter(cause_type, cause_id)
    pending = LedgerEntry.bucket == Bucket.PENDING.value
    account_ids = session.scalars(select(LedgerEntry.account_id).where(*cause, pending).distinct()).all()
    if not account_ids:
        return []
    accounts = {account_id: _lock(session, account_id) for account_id in sorted(account_ids)}
    nets = session.execute(
        select(LedgerEntry.account_id, func.sum(LedgerEntry.amount))
        .where(*cause, pending)
        .group_by(LedgerEntry.account_id)
    ).all()
    settled = [(accounts[account_id], int(net)) for account_id, net in nets if net > 0]
    if not settled:
        raise Conflict(_l("These points were already confirmed or rejected."), code="already_settled")
    return settled


# --- debits ---------------------------------------------------------------


def spend(
    session: Session,
    account: Account,
    amount: int,
    *,
    cause_type: str,
    cause_id: Any,
    actor: User | None = None,
    at: datetime | None = None,
) -> LedgerEntry:
    """Takes active points, the oldest first; InsufficientPoints if the balance is short."""
    require_positive(amount)
    account = _lock(session, account.id)
    if account.active < amount:
        raise InsufficientPoints(
            _l(
                "Not enough points: %(needed)d needed, %(available)d available.",
                needed=amount,
                available=account.active,
            ),
            needed=amount,
            available=account.active,
        )
    _consume(session, account, amount)
    entry = _write(
        session,
        account,
        EntryKind.REDEMPTION,
        Bucket.ACTIVE,
        -amount,
        cause_type=cause_type,
        cause_id=cause_id,
        actor=actor,
        at=at or utcnow(),
    )
    session.flush()
    return entry


def adjust(session: Session, account: Account, amount: int, *, actor: User, reason: str) -> LedgerEntry:
    """A manual correction by staff, up or down, with its reason in the audit log."""
    reason = _require_reason(reason)
    if not isinstance(amount, int) or amount == 0:
        raise Invalid(_l("Enter a whole number of points other than zero."), code="invalid_amount")
    if amount > 0:
        entry = accrue(
            session,
            account,
            amount,
            cause_type="adjustment",
            cause_id=None,
            actor=actor,
            kind=EntryKind.ADJUSTMENT.value,
            reason=reason,
        )
    else:
        account = _lock(session, account.id)
        if account.active < -amount:
            raise InsufficientPoints(
                _l(
                    "Not enough points: %(needed)d needed, %(available)d available.",
                    needed=-amount,
                    available=account.active,
                )
            )
        _consume(session, account, -amount)
        entry = _write(
            session,
            account,
            EntryKind.ADJUSTMENT,
            Bucket.ACTIVE,
            amount,
            cause_type="adjustment",
            cause_id=None,
            actor=actor,
            at=utcnow(),
            reason=reason,
        )
        session.flush()
    record(session, actor, "points.adjust", entry, account_id=account.id, amount=amount, reason=reason)
    return entry


def reverse(session: Session, entry: LedgerEntry, *, actor: User, reason: str) -> LedgerEntry:
    """Undoes an entry with a new, opposite entry; the original stays as it was."""
    reason = _require_reason(reason)
    if EntryKind(entry.kind) in NOT_REVERSIBLE:
        raise Conflict(
            _l("This entry cannot be reversed; make an adjustment instead."), code="not_reversible"
        )
    if entry.bucket == Bucket.PENDING.value:
        raise Conflict(
            _l("Pending points are removed by rejecting them, not by a reversal."), code="not_reversible"
        )
    account = _lock(session, entry.account_id)
    if session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry.id)) is not None:
        raise Conflict(_l("This entry has already been reversed."), code="already_reversed")
    at = utcnow()
    if entry.amount > 0:
        if account.active < entry.amount:
            raise InsufficientPoints(
                _l(
                    "These points have already been spent: %(available)d left to take back.",
                    available=account.active,
                )
            )
        _consume(session, account, entry.amount, first_entry_id=entry.id)
    if entry.amount < 0:  # a debit undone: the points come back as a credit, with a fresh lot
        given_back = credit(
            session,
            account,
            -entry.amount,
            cause_type=entry.cause_type,
            cause_id=entry.cause_id,
            kind=CreditKind.REVERSAL,
            actor=actor,
            at=at,
            reason=reason,
            reverses_id=entry.id,
        )
        reversal = session.get_one(LedgerEntry, given_back[0].entry_id)
    else:
        reversal = _write(
            session,
            account,
            EntryKind.REVERSAL,
            Bucket.ACTIVE,
            -entry.amount,
            cause_type=entry.cause_type,
            cause_id=entry.cause_id,
            actor=actor,
            at=at,
            reason=reason,
            reverses_id=entry.id,
        )
    session.flush()
    record(
        session,
        actor,
        "points.reverse",
        reversal,
        entry_id=entry.id,
        account_id=account.id,
        amount=reversal.amount,
        reason=reason,
    )
    return reversal


# --- expiry ---------------------------------------------------------------


def expire_due(session: Session, now: datetime) -> int:
    """Expires every lot due by `now`, one entry per account; returns the points expired.

    Idempotent: expired lots have nothing remaining, so a second run finds nothing.
    """
    account_ids = session.scalars(
        select(PointLot.account_id).where(PointLot.expires_at <= now, PointLot.remaining > 0).distinct()
    ).all()
    total = 0
    for account_id in sorted(account_ids):
        account = _lock(session, account_id)
        lots = session.scalars(
            select(PointLot)
            .where(PointLot.account_id == account_id, PointLot.expires_at <= now, PointLot.remaining > 0)
            .execution_options(populate_existing=True)
        ).all()
        points = sum(lot.remaining for lot in lots)
        if not points:
            continue
        for lot in lots:
            lot.remaining = 0
        _write(
            session,
            account,
            EntryKind.EXPIRY,
            Bucket.ACTIVE,
            -points,
            cause_type="expiry",
            cause_id=now.date().isoformat(),
            actor=None,
            at=now,
        )
        session.flush()
        total += points
    return total


def set_expiry_policy(session: Session, policy: ExpiryPolicy, *, actor: User | None) -> int:
    """Stores the policy and re-dates every lot with points left; returns the lots re-dated."""
    old = expiry_policy(session)
    store_expiry_policy(session, policy, actor_id=actor.id if actor else None)
    count = 0
    lots = session.scalars(
        select(PointLot).where(PointLot.remaining > 0).order_by(PointLot.id).execution_options(yield_per=1000)
    )
    for lot in lots:
        lot.expires_at = policy.expires_at(lot.earned_at)
        count += 1
    session.flush()
    record(session, actor, "points.expiry_policy", None, old=vars(old), new=vars(policy), lots=count)
    return count


def set_point_value(session: Session, value: PointValue, *, actor: User) -> None:
    store_point_value(session, value, actor_id=actor.id)
    record(session, actor, "points.point_value", None, amount=str(value.amount), currency=value.currency)


def set_registration_rule(
    session: Session, rule: RegistrationRule, *, outlet: Outlet | None, actor: User
) -> None:
    """The programme's default rule (`outlet` None, admin) or one shop's own (its owner)."""
    store_registration_rule(session, rule, outlet_id=outlet.id if outlet else None, actor_id=actor.id)
    record(
        session, actor, "points.registration_rule", outlet, mode=rule.mode, person_percent=rule.person_percent
    )


# --- helpers --------------------------------------------------------------


def _write(
    session: Session,
    account: Account,
    kind: EntryKind,
    bucket: Bucket,
    amount: int,
    *,
    cause_type: str,
    cause_id: Any,
    actor: User | None,
    at: datetime,
    reason: str | None = None,
    reverses_id: int | None = None,
) -> LedgerEntry:
    """Adds the entry and moves the balance by the same amount, in SQL (`active = active + n`)."""
    entry = LedgerEntry(
        account_id=account.id,
        kind=kind.value,
        bucket=bucket.value,
        amount=amount,
        cause_type=cause_type,
        cause_id=None if cause_id is None else str(cause_id),
        actor_id=actor_id_of(actor),
        created_at=at,
        reason=reason,
        reverses_id=reverses_id,
    )
    session.add(entry)
    if bucket is Bucket.ACTIVE:
        account.active = Account.active + amount
    else:
        account.pending = Account.pending + amount
    return entry


def _consume(session: Session, account: Account, amount: int, *, first_entry_id: int | None = None) -> None:
    """Takes `amount` from the account's lots, oldest first (or the named entry's lot first)."""
    lots = session.scalars(
        select(PointLot)
        .where(PointLot.account_id == account.id, PointLot.remaining > 0)
        .order_by(PointLot.earned_at, PointLot.id)
        .execution_options(populate_existing=True)
    ).all()
    if first_entry_id is not None:
        lots = sorted(lots, key=lambda lot: lot.entry_id != first_entry_id)
    left = amount
    for lot in lots:
        if left == 0:
            break
        taken = min(lot.remaining, left)
        lot.remaining -= taken
        left -= taken
    if left:  # the lots hold less than the balance: `points check` will name the account
        raise InsufficientPoints(_l("Not enough points."))


def _breakdown_of(session: Session, account_id: int, cause_type: str, cause_id: Any, net: int) -> list | None:
    """The breakdown of the points a cause held on an account, for their confirmation (None
    when the held entries do not say where all `net` points came from)."""
    lines: dict[tuple, dict[str, Any]] = {}
    held = session.scalars(
        select(LedgerEntry.breakdown).where(
            *_cause_filter(cause_type, cause_id),
            LedgerEntry.account_id == account_id,
            LedgerEntry.bucket == Bucket.PENDING.value,
            LedgerEntry.amount > 0,
        )
    )
    for breakdown in held:
        for line in breakdown or []:
            key = tuple(sorted((k, v) for k, v in line.items() if k != "points"))
            lines.setdefault(key, {**line, "points": 0})["points"] += line["points"]
    found = list(lines.values())
    return found if found and sum(line["points"] for line in found) == net else None


def _cause_filter(cause_type: str, cause_id: Any) -> tuple:
    return (
        LedgerEntry.cause_type == cause_type,
        LedgerEntry.cause_id.is_(None) if cause_id is None else LedgerEntry.cause_id == str(cause_id),
    )


def _require_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_l("Give a reason."), code="reason_required")
    return reason[:1000]
