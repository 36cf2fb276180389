"""Every movement of points: the one way other packages change a balance.

Each operation locks the account row before it reads the balance (SELECT ...
FOR UPDATE on PostgreSQL; crediting a registration needs no balance read, and
its UPDATE takes the lock), so parallel transactions queue instead of
overdrawing; the CHECK constraints on the balances are the last guard.
Services flush, never commit. A registration's credit is usually written by
the registration's own statement (`registration_credit`, through
`partner_club.companions`).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

from flask_babel import lazy_gettext as _l
from sqlalchemy import (Connection, Integer, Select, String, Update, bindparam, cast, column, func, insert,
                        literal_column, select, table, true, update)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.expression import ColumnElement, FromClause

from partner_club.accounts.models import User
from partner_club.audit.services import record
from partner_club.companions import Companion, value
from partner_club.database import ShortUTCDateTime, savepoint, utcnow
from partner_club.errors import Conflict, Invalid, NotFound
from partner_club.ledger.models import Account, AccountKind, Bucket, EntryKind, LedgerEntry, PointLot
from partner_club.ledger.policy import (
    ExpiryPolicy, PointValue, RegistrationRule, expiry_policy, outlet_rule_key, registration_rule,
    store_expiry_policy, store_point_value, store_registration_rule,
)
from partner_club.settings_store import read_with_next
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
    statement = (select(Account).where(Account.id == account_id).with_for_update()
                 .execution_options(populate_existing=True))
    account = session.scalars(statement).one_or_none()
    if account is None:
        raise NotFound(_l("This points account does not exist."), code="no_account")
    return account


# --- credits --------------------------------------------------------------

def expect_registration_credit(session: Session, user: User) -> None:
    """A registration's credit may follow in this transaction: the shop's own rule is then read
    with the transaction's first settings read rather than by a query of its own."""
    if user.outlet_id is not None:
        read_with_next(session, outlet_rule_key(user.outlet_id))


@dataclass(frozen=True, slots=True)
class Credit:
    """One account's share of a registration's points, as written (no ORM object to build)."""
    holder: str          # AccountKind: person or outlet
    account_id: int
    entry_id: int
    bucket: str
    amount: int


def credit_registration(session: Session, user: User, points: int, *, pending: bool, cause_type: str,
                        cause_id: Any, actor: User | None = None, at: datetime | None = None) -> list[Credit]:
    """Credits a registration's points to the person, the shop, or both, per the shop's rule.

    Registrations run this on SQLite, for a split between two accounts and for a holder's first
    points (`registration_credit`), so it writes with Core statements and flushes nothing. Per
    account credited: the balance UPDATE (which takes the row lock), the entry INSERT and, for
    active points, the lot INSERT; on PostgreSQL the three go as one statement. The settings
    come from the transaction's cache.
    """
    _require_positive(points)
    at = at or utcnow()
    expires_at = None if pending else expiry_policy(session).expires_at(at)
    values = {"kind": EntryKind.ACCRUAL.value, "bucket": (Bucket.PENDING if pending else Bucket.ACTIVE).value,
              "cause_type": cause_type, "cause_id": None if cause_id is None else str(cause_id),
              "actor_id": _actor_id(actor), "created_at": at}
    return [_credit(session, holder, holder_id, {**values, "amount": amount}, expires_at)
            for holder, holder_id, amount in _shares(session, user, points)]


def registration_credit(session: Session, user: User, points: int, *, pending: bool,
                        cause_type: str, at: datetime) -> Companion:
    """The same credit as `credit_registration`, written with the registration it is for
    (`partner_club.companions`; the registration's id becomes the entry's cause).

    On PostgreSQL, when one account takes all the points (the rule gives them to the person or
    to the shop), the balance UPDATE, the entry and the lot ride in the registration's own
    statement. They write nothing if the holder has no account yet: `finish` then opens it and
    credits through `credit_registration`, as it does for a split between two accounts and
    on SQLite.
    """
    _require_positive(points)
    shares = list(_shares(session, user, points))
    bucket = (Bucket.PENDING if pending else Bucket.ACTIVE).value
    key, build, params = "ledger.credit", _no_writes, {}
    if len(shares) == 1:
        holder, holder_id, amount = shares[0]
        key, build = f"ledger.credit.{holder.value}.{bucket}", functools.partial(_chained_credit, holder, bucket)
        params = {"credit_holder": holder_id, "credit_points": amount, "credit_cause": cause_type,
                  "credit_at": at, "credit_expires": None if pending else expiry_policy(session).expires_at(at)}

    def finish(session: Session, registration_id: int, rows: int | None) -> None:
        if rows:  # written in the registration's statement
            _forget_held_balances(session, shares[0][0], shares[0][1])
        else:
            credit_registration(session, user, points, pending=pending, cause_type=cause_type,
                                cause_id=registration_id, at=at)

    return Companion(key, build, params, finish)


def _shares(session: Session, user: User, points: int) -> Iterator[tuple[AccountKind, int, int]]:
    """(holder, holder id, points) of every account a registration's points go to, per the shop's rule."""
    if user.outlet_id is None:
        yield AccountKind.PERSON, user.id, points
        return
    person_points, shop_points = registration_rule(session, user.outlet_id).shares(points)
    if person_points:
        yield AccountKind.PERSON, user.id, person_points
    if shop_points:
        yield AccountKind.OUTLET, user.outlet_id, shop_points


def _no_writes(_dialect: str, _registration_id: ColumnElement, _source: FromClause | None) -> tuple:
    return ()


def _chained_credit(holder: AccountKind, bucket: str, dialect: str, registration_id: ColumnElement,
                    source: FromClause | None) -> tuple:
    """`registration_credit`'s one write in the registration's statement: UPDATE the holder's
    balance if the registration was stored, INSERT the entry naming it and, for active points,
    INSERT the lot; it returns a row per entry written. Nothing rides along elsewhere."""
    if dialect != "postgresql" or source is None:
        return ()
    # The UPDATE names the table with only the columns it writes and returns: Core would take
    # any parameter of the composed statement named like a column it knows (the registration's
    # outlet_id, created_at) for a SET value.
    accounts = table("point_accounts", column("id", Integer()), column(bucket, Integer()))
    balance = accounts.c[bucket]
    holder_column = literal_column("user_id" if holder is AccountKind.PERSON else "outlet_id", Integer())
    moved = (update(accounts).where(holder_column == bindparam("credit_holder", type_=Integer()),
                                    select(registration_id).select_from(source).exists())
             .values({balance: balance + bindparam("credit_points", type_=Integer())})
             .returning(accounts.c.id).cte("moved"))
    entry = insert(_ENTRIES).from_select(
        ["account_id", "kind", "bucket", "amount", "cause_type", "cause_id", "created_at"],
        select(moved.c.id, literal_column(f"'{EntryKind.ACCRUAL.value}'"), literal_column(f"'{bucket}'"),
               value("credit_points", Integer()), value("credit_cause", String()),
               cast(registration_id, String()), value("credit_at", ShortUTCDateTime()))
        .select_from(moved).join(source, true())).returning(_ENTRIES.c.id, _ENTRIES.c.account_id)
    if bucket == Bucket.PENDING.value:  # pending points get their lot when confirmed
        return (entry,)
    entry = entry.cte("entry")
    return (insert(_LOTS).from_select(
        ["account_id", "entry_id", "earned_at", "expires_at", "amount", "remaining"],
        select(entry.c.account_id, entry.c.id, value("credit_at", ShortUTCDateTime()),
               value("credit_expires", ShortUTCDateTime()), value("credit_points", Integer()),
               value("credit_points", Integer()))).returning(_LOTS.c.id),)


def _forget_held_balances(session: Session, holder: AccountKind, holder_id: int) -> None:
    """An Account of the holder the session already holds reloads its balances, which a statement
    outside the ORM moved."""
    column = "user_id" if holder is AccountKind.PERSON else "outlet_id"
    for held in list(session.identity_map.values()):
        if isinstance(held, Account) and sa_inspect(held).dict.get(column) == holder_id:
            session.expire(held, ["active", "pending"])


def _credit(session: Session, holder: AccountKind, holder_id: int, values: dict[str, Any],
            expires_at: datetime | None) -> Credit:
    """Moves the holder's balance and writes the entry and, for active points, the lot."""
    connection = session.connection()
    write = _write_in_one if connection.dialect.name == "postgresql" else _write_in_three
    written = write(connection, holder, holder_id, values, expires_at)
    if written is None:  # the holder's first points
        _create_account(session, holder, holder_id)
        written = write(connection, holder, holder_id, values, expires_at)
        if written is None:
            raise NotFound(_l("This points account does not exist."), code="no_account")
    account_id, active, pending, entry_id = written
    _sync_held_account(session, account_id, active, pending)
    return Credit(holder.value, account_id, entry_id, values["bucket"], values["amount"])


_ACCOUNTS, _ENTRIES, _LOTS = Account.__table__, LedgerEntry.__table__, PointLot.__table__
_ACCOUNT_MAPPER = sa_inspect(Account)
_ENTRY_FIELDS = ("kind", "bucket", "amount", "cause_type", "cause_id", "actor_id", "created_at")
_INSERT_ENTRY = insert(_ENTRIES).returning(_ENTRIES.c.id)
_INSERT_LOT = insert(_LOTS)
Written = tuple[int, int, int, int]  # account id, its active and pending balances, the entry's id


def _write_in_three(connection: Connection, holder: AccountKind, holder_id: int, values: dict[str, Any],
                    expires_at: datetime | None) -> Written | None:
    """The balance UPDATE, the entry INSERT and the lot INSERT; None if the holder has no account."""
    moved = connection.execute(_balance_statement(holder, values["bucket"]),
                               {"holder": holder_id, "amount": values["amount"]}).first()
    if moved is None:
        return None
    account_id, active, pending = moved
    entry_id = connection.execute(_INSERT_ENTRY, {**values, "account_id": account_id}).scalar_one()
    if values["bucket"] == Bucket.ACTIVE.value:  # pending points get their lot when confirmed
        connection.execute(_INSERT_LOT, {"account_id": account_id, "entry_id": entry_id, "expires_at": expires_at,
                                         "earned_at": values["created_at"], "amount": values["amount"],
                                         "remaining": values["amount"]})
    return account_id, active, pending, entry_id


def _write_in_one(connection: Connection, holder: AccountKind, holder_id: int, values: dict[str, Any],
                  expires_at: datetime | None) -> Written | None:
    """The same writes as one PostgreSQL statement; None if the holder has no account."""
    parameters = {f"entry_{field}": value for field, value in values.items()}
    parameters.update(holder=holder_id, amount=values["amount"], expires_at=expires_at)
    return connection.execute(_credit_statement(holder, values["bucket"]), parameters).first()


@functools.cache
def _balance_statement(holder: AccountKind, bucket: str) -> Update:
    """UPDATE point_accounts SET <bucket> = <bucket> + :amount WHERE <holder> = :holder
    RETURNING id, active, pending: the UPDATE locks the row, no SELECT ... FOR UPDATE first.

    Core adds any parameter named like a column of point_accounts to the SET clause, so no
    statement that contains this one may take such a parameter (kind, created_at, ...).
    """
    holder_column = _ACCOUNTS.c.user_id if holder is AccountKind.PERSON else _ACCOUNTS.c.outlet_id
    balance = _ACCOUNTS.c[bucket]
    return (update(_ACCOUNTS).where(holder_column == bindparam("holder"))
            .values({balance: balance + bindparam("amount")})
            .returning(_ACCOUNTS.c.id, _ACCOUNTS.c.active, _ACCOUNTS.c.pending))


@functools.cache
def _credit_statement(holder: AccountKind, bucket: str) -> Select:
    """WITH moved AS (UPDATE the balance RETURNING ...), entry AS (INSERT the entry SELECT ... FROM
    moved RETURNING ...)[, lot AS (INSERT the lot SELECT ... FROM entry)] SELECT account id,
    balances, entry id: nothing is written, and no row comes back, if the holder has no account.
    The entry's parameters are entry_<column>, for the reason `_balance_statement` gives.
    """
    moved = _balance_statement(holder, bucket).cte("moved")
    entry_values = [bindparam(f"entry_{field}", type_=_ENTRIES.c[field].type) for field in _ENTRY_FIELDS]
    entry = (insert(_ENTRIES).from_select(["account_id", *_ENTRY_FIELDS], select(moved.c.id, *entry_values))
             .returning(_ENTRIES.c.id, _ENTRIES.c.account_id, _ENTRIES.c.amount, _ENTRIES.c.created_at)
             .cte("entry"))
    statement = select(moved.c.id, moved.c.active, moved.c.pending, entry.c.id).join_from(
        moved, entry, entry.c.account_id == moved.c.id)
    if bucket == Bucket.ACTIVE.value:  # pending points get their lot when confirmed
        lot_values = select(entry.c.account_id, entry.c.id, entry.c.created_at,
                            bindparam("expires_at", type_=_LOTS.c.expires_at.type), entry.c.amount, entry.c.amount)
        lot = insert(_LOTS).from_select(
            ["account_id", "entry_id", "earned_at", "expires_at", "amount", "remaining"], lot_values).cte("lot")
        statement = statement.add_cte(lot)
    return statement


def _create_account(session: Session, holder: AccountKind, holder_id: int) -> None:
    """An empty account for the holder. A parallel transaction may create it first: the unique
    holder column decides, and the loser goes on with the winner's row."""
    holder_column = "user_id" if holder is AccountKind.PERSON else "outlet_id"
    try:
        with savepoint(session):
            session.connection().execute(insert(_ACCOUNTS), {"kind": holder.value, holder_column: holder_id,
                                                              "active": 0, "pending": 0, "created_at": utcnow()})
    except IntegrityError:
        pass


def _sync_held_account(session: Session, account_id: int, active: int, pending: int) -> None:
    """An Account the session already holds shows the balances the Core UPDATE left."""
    account = session.identity_map.get(_ACCOUNT_MAPPER.identity_key_from_primary_key((account_id,)))
    if account is not None:
        set_committed_value(account, "active", active)
        set_committed_value(account, "pending", pending)


def accrue(session: Session, account: Account, amount: int, *, cause_type: str, cause_id: Any,
           actor: User | None = None, kind: str = "accrual", at: datetime | None = None,
           reason: str | None = None) -> LedgerEntry:
    """Active points, earned now (or at `at`), spendable at once."""
    _require_positive(amount)
    entry_kind = EntryKind(kind) if kind in {k.value for k in EntryKind} else None
    if entry_kind not in CREDIT_KINDS:
        raise Invalid(_l("Points cannot be credited as %(kind)s.", kind=kind), code="bad_entry_kind")
    account = _lock(session, account.id)
    at = at or utcnow()
    entry = _write(session, account, entry_kind, Bucket.ACTIVE, amount, cause_type=cause_type,
                   cause_id=cause_id, actor=actor, at=at, reason=reason)
    _add_lot(session, account, entry, amount, at)
    session.flush()
    return entry


def hold(session: Session, account: Account, amount: int, *, cause_type: str, cause_id: Any,
         actor: User | None = None, at: datetime | None = None) -> LedgerEntry:
    """Pending points: counted, but not spendable until confirmed."""
    _require_positive(amount)
    entry = _write(session, _lock(session, account.id), EntryKind.ACCRUAL, Bucket.PENDING, amount,
                   cause_type=cause_type, cause_id=cause_id, actor=actor, at=at or utcnow())
    session.flush()
    return entry


def refund(session: Session, account: Account, amount: int, *, cause_type: str, cause_id: Any,
           actor: User | None = None, at: datetime | None = None) -> LedgerEntry:
    """Points given back (a cancelled order): a fresh lot, earned now."""
    return accrue(session, account, amount, cause_type=cause_type, cause_id=cause_id, actor=actor,
                  kind=EntryKind.REFUND.value, at=at)


# --- pending: confirm or reject -------------------------------------------

def confirm(session: Session, *, cause_type: str, cause_id: Any, actor: User | None = None,
            at: datetime | None = None) -> list[LedgerEntry]:
    """Moves the pending points of a cause to active (two entries per account)."""
    entries: list[LedgerEntry] = []
    at = at or utcnow()
    for account, net in _settle_pending(session, cause_type, cause_id):
        entries.append(_write(session, account, EntryKind.CONFIRMATION, Bucket.PENDING, -net,
                              cause_type=cause_type, cause_id=cause_id, actor=actor, at=at))
        credit = _write(session, account, EntryKind.CONFIRMATION, Bucket.ACTIVE, net,
                        cause_type=cause_type, cause_id=cause_id, actor=actor, at=at)
        _add_lot(session, account, credit, net, at)
        entries.append(credit)
    session.flush()
    return entries


def reject(session: Session, *, cause_type: str, cause_id: Any, actor: User | None = None,
           reason: str = "") -> list[LedgerEntry]:
    """Removes the pending points of a cause."""
    entries = [
        _write(session, account, EntryKind.REJECTION, Bucket.PENDING, -net, cause_type=cause_type,
               cause_id=cause_id, actor=actor, at=utcnow(), reason=reason or None)
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
        .where(*cause, pending).group_by(LedgerEntry.account_id)
    ).all()
    settled = [(accounts[account_id], int(net)) for account_id, net in nets if net > 0]
    if not settled:
        raise Conflict(_l("These points were already confirmed or rejected."), code="already_settled")
    return settled


# --- debits ---------------------------------------------------------------

def spend(session: Session, account: Account, amount: int, *, cause_type: str, cause_id: Any,
          actor: User | None = None, at: datetime | None = None) -> LedgerEntry:
    """Takes active points, the oldest first; InsufficientPoints if the balance is short."""
    _require_positive(amount)
    account = _lock(session, account.id)
    if account.active < amount:
        raise InsufficientPoints(_l("Not enough points: %(needed)d needed, %(available)d available.",
                                    needed=amount, available=account.active),
                                 needed=amount, available=account.active)
    _consume(session, account, amount)
    entry = _write(session, account, EntryKind.REDEMPTION, Bucket.ACTIVE, -amount, cause_type=cause_type,
                   cause_id=cause_id, actor=actor, at=at or utcnow())
    session.flush()
    return entry


def adjust(session: Session, account: Account, amount: int, *, actor: User, reason: str) -> LedgerEntry:
    """A manual correction by staff, up or down, with its reason in the audit log."""
    reason = _require_reason(reason)
    if not isinstance(amount, int) or amount == 0:
        raise Invalid(_l("Enter a whole number of points other than zero."), code="invalid_amount")
    if amount > 0:
        entry = accrue(session, account, amount, cause_type="adjustment", cause_id=None, actor=actor,
                       kind=EntryKind.ADJUSTMENT.value, reason=reason)
    else:
        account = _lock(session, account.id)
        if account.active < -amount:
            raise InsufficientPoints(_l("Not enough points: %(needed)d needed, %(available)d available.",
                                        needed=-amount, available=account.active))
        _consume(session, account, -amount)
        entry = _write(session, account, EntryKind.ADJUSTMENT, Bucket.ACTIVE, amount, cause_type="adjustment",
                       cause_id=None, actor=actor, at=utcnow(), reason=reason)
        session.flush()
    record(session, actor, "points.adjust", entry, account_id=account.id, amount=amount, reason=reason)
    return entry


def reverse(session: Session, entry: LedgerEntry, *, actor: User, reason: str) -> LedgerEntry:
    """Undoes an entry with a new, opposite entry; the original stays as it was."""
    reason = _require_reason(reason)
    if EntryKind(entry.kind) in NOT_REVERSIBLE:
        raise Conflict(_l("This entry cannot be reversed; make an adjustment instead."), code="not_reversible")
    if entry.bucket == Bucket.PENDING.value:
        raise Conflict(_l("Pending points are removed by rejecting them, not by a reversal."),
                       code="not_reversible")
    account = _lock(session, entry.account_id)
    if session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry.id)) is not None:
        raise Conflict(_l("This entry has already been reversed."), code="already_reversed")
    at = utcnow()
    if entry.amount > 0:
        if account.active < entry.amount:
            raise InsufficientPoints(_l("These points have already been spent: %(available)d left to take back.",
                                        available=account.active))
        _consume(session, account, entry.amount, first_entry_id=entry.id)
    reversal = _write(session, account, EntryKind.REVERSAL, Bucket.ACTIVE, -entry.amount,
                      cause_type=entry.cause_type, cause_id=entry.cause_id, actor=actor, at=at,
                      reason=reason, reverses_id=entry.id)
    if entry.amount < 0:
        _add_lot(session, account, reversal, -entry.amount, at)
    session.flush()
    record(session, actor, "points.reverse", reversal, entry_id=entry.id, account_id=account.id,
           amount=reversal.amount, reason=reason)
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
            select(PointLot).where(PointLot.account_id == account_id, PointLot.expires_at <= now,
                                   PointLot.remaining > 0)
            .execution_options(populate_existing=True)).all()
        points = sum(lot.remaining for lot in lots)
        if not points:
            continue
        for lot in lots:
            lot.remaining = 0
        _write(session, account, EntryKind.EXPIRY, Bucket.ACTIVE, -points, cause_type="expiry",
               cause_id=now.date().isoformat(), actor=None, at=now)
        session.flush()
        total += points
    return total


def set_expiry_policy(session: Session, policy: ExpiryPolicy, *, actor: User | None) -> int:
    """Stores the policy and re-dates every lot with points left; returns the lots re-dated."""
    old = expiry_policy(session)
    store_expiry_policy(session, policy, actor_id=actor.id if actor else None)
    count = 0
    lots = session.scalars(select(PointLot).where(PointLot.remaining > 0).order_by(PointLot.id)
                           .execution_options(yield_per=1000))
    for lot in lots:
        lot.expires_at = policy.expires_at(lot.earned_at)
        count += 1
    session.flush()
    record(session, actor, "points.expiry_policy", None, old=vars(old), new=vars(policy), lots=count)
    return count


def set_point_value(session: Session, value: PointValue, *, actor: User) -> None:
    store_point_value(session, value, actor_id=actor.id)
    record(session, actor, "points.point_value", None, amount=str(value.amount), currency=value.currency)


def set_registration_rule(session: Session, rule: RegistrationRule, *, outlet: Outlet | None, actor: User) -> None:
    """The programme's default rule (`outlet` None, admin) or one shop's own (its owner)."""
    store_registration_rule(session, rule, outlet_id=outlet.id if outlet else None, actor_id=actor.id)
    record(session, actor, "points.registration_rule", outlet, mode=rule.mode, person_percent=rule.person_percent)


# --- helpers --------------------------------------------------------------

def _write(session: Session, account: Account, kind: EntryKind, bucket: Bucket, amount: int, *, cause_type: str,
           cause_id: Any, actor: User | None, at: datetime, reason: str | None = None,
           reverses_id: int | None = None) -> LedgerEntry:
    """Adds the entry and moves the balance by the same amount, in SQL (`active = active + n`)."""
    entry = LedgerEntry(account_id=account.id, kind=kind.value, bucket=bucket.value, amount=amount,
                        cause_type=cause_type, cause_id=None if cause_id is None else str(cause_id),
                        actor_id=_actor_id(actor), created_at=at, reason=reason, reverses_id=reverses_id)
    session.add(entry)
    if bucket is Bucket.ACTIVE:
        account.active = Account.active + amount
    else:
        account.pending = Account.pending + amount
    return entry


def _add_lot(session: Session, account: Account, entry: LedgerEntry, amount: int, earned_at: datetime) -> PointLot:
    lot = PointLot(account_id=account.id, entry=entry, earned_at=earned_at,
                   expires_at=expiry_policy(session).expires_at(earned_at), amount=amount, remaining=amount)
    session.add(lot)
    return lot


def _consume(session: Session, account: Account, amount: int, *, first_entry_id: int | None = None) -> None:
    """Takes `amount` from the account's lots, oldest first (or the named entry's lot first)."""
    lots = session.scalars(
        select(PointLot).where(PointLot.account_id == account.id, PointLot.remaining > 0)
        .order_by(PointLot.earned_at, PointLot.id).execution_options(populate_existing=True)).all()
    if first_entry_id is not None:
        lots.sort(key=lambda lot: lot.entry_id != first_entry_id)
    left = amount
    for lot in lots:
        if left == 0:
            break
        taken = min(lot.remaining, left)
        lot.remaining -= taken
        left -= taken
    if left:  # the lots hold less than the balance: `points check` will name the account
        raise InsufficientPoints(_l("Not enough points."))


def _cause_filter(cause_type: str, cause_id: Any) -> tuple:
    return (LedgerEntry.cause_type == cause_type,
            LedgerEntry.cause_id.is_(None) if cause_id is None else LedgerEntry.cause_id == str(cause_id))


def _require_positive(amount: Any) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise Invalid(_l("The number of points must be a whole number above zero."), code="invalid_amount")


def _require_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_l("Give a reason."), code="reason_required")
    return reason[:1000]


def _actor_id(actor: User | int | None) -> int | None:
    if actor is None or isinstance(actor, int):
        return actor
    return actor.id
