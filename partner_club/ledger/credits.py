"""A registration's points: the ledger's hot path, which every registration runs.

`registration_credit` is a companion of the registration (`partner_club.companions`): on
PostgreSQL the balance, the entry and the lot are usually written by the registration's own
statement. `credit_registration` writes the same with statements of its own (SQLite, a split
between person and shop, a holder's first points). Both move the balance with a Core UPDATE,
which takes the account's row lock, and build no ORM objects; an Account the session holds is
kept true to the new balance. Like the rest of the ledger, they flush nothing and never commit.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Connection,
    Integer,
    Select,
    String,
    Update,
    bindparam,
    cast,
    column,
    insert,
    literal_column,
    select,
    table,
    true,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.expression import ColumnElement, FromClause

from partner_club.accounts.models import User
from partner_club.companions import Companion, value
from partner_club.database import ShortUTCDateTime, savepoint, utcnow
from partner_club.errors import Invalid, NotFound
from partner_club.ledger.models import Account, AccountKind, Bucket, EntryKind, LedgerEntry, PointLot
from partner_club.ledger.policy import expiry_policy, outlet_rule_key, registration_rule
from partner_club.settings_store import read_with_next


def expect_registration_credit(session: Session, user: User) -> None:
    """A registration's credit may follow in this transaction: the shop's own rule is then read
    with the transaction's first settings read rather than by a query of its own."""
    if user.outlet_id is not None:
        read_with_next(session, outlet_rule_key(user.outlet_id))


@dataclass(frozen=True, slots=True)
class Credit:
    """One account's share of a registration's points, as written (no ORM object to build)."""

    holder: str  # AccountKind: person or outlet
    account_id: int
    entry_id: int
    bucket: str
    amount: int


def credit_registration(
    session: Session,
    user: User,
    points: int,
    *,
    pending: bool,
    cause_type: str,
    cause_id: Any,
    actor: User | None = None,
    at: datetime | None = None,
) -> list[Credit]:
    """Credits a registration's points to the person, the shop, or both, per the shop's rule.

    Registrations run this on SQLite, for a split between two accounts and for a holder's first
    points (`registration_credit`), so it writes with Core statements and flushes nothing. Per
    account credited: the balance UPDATE (which takes the row lock), the entry INSERT and, for
    active points, the lot INSERT; on PostgreSQL the three go as one statement. The settings
    come from the transaction's cache.
    """
    require_positive(points)
    at = at or utcnow()
    expires_at = None if pending else expiry_policy(session).expires_at(at)
    values = {
        "kind": EntryKind.ACCRUAL.value,
        "bucket": (Bucket.PENDING if pending else Bucket.ACTIVE).value,
        "cause_type": cause_type,
        "cause_id": None if cause_id is None else str(cause_id),
        "actor_id": actor_id_of(actor),
        "created_at": at,
    }
    return [
        _credit(session, holder, holder_id, {**values, "amount": amount}, expires_at)
        for holder, holder_id, amount in _shares(session, user, points)
    ]


def registration_credit(
    session: Session, user: User, points: int, *, pending: bool, cause_type: str, at: datetime
) -> Companion:
    """The same credit as `credit_registration`, written with the registration it is for
    (`partner_club.companions`; the registration's id becomes the entry's cause).

    On PostgreSQL, when one account takes all the points (the rule gives them to the person or
    to the shop), the balance UPDATE, the entry and the lot ride in the registration's own
    statement. They write nothing if the holder has no account yet: `finish` then opens it and
    credits through `credit_registration`, as it does for a split between two accounts and
    on SQLite.
    """
    require_positive(points)
    shares = list(_shares(session, user, points))
    bucket = (Bucket.PENDING if pending else Bucket.ACTIVE).value
    key, build, params = "ledger.credit", _no_writes, {}
    if len(shares) == 1:
        holder, holder_id, amount = shares[0]
        key, build = (
            f"ledger.credit.{holder.value}.{bucket}",
            functools.partial(_chained_credit, holder, bucket),
        )
        params = {
            "credit_holder": holder_id,
            "credit_points": amount,
            "credit_cause": cause_type,
            "credit_at": at,
            "credit_expires": None if pending else expiry_policy(session).expires_at(at),
        }

    def finish(session: Session, registration_id: int, rows: int | None) -> None:
        if rows:  # written in the registration's statement
            _forget_held_balances(session, shares[0][0], shares[0][1])
        else:
            credit_registration(
                session, user, points, pending=pending, cause_type=cause_type, cause_id=registration_id, at=at
            )

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


def _chained_credit(
    holder: AccountKind, bucket: str, dialect: str, registration_id: ColumnElement, source: FromClause | None
) -> tuple:
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
    moved = (
        update(accounts)
        .where(
            holder_column == bindparam("credit_holder", type_=Integer()),
            select(registration_id).select_from(source).exists(),
        )
        .values({balance: balance + bindparam("credit_points", type_=Integer())})
        .returning(accounts.c.id)
        .cte("moved")
    )
    entry = (
        insert(_ENTRIES)
        .from_select(
            ["account_id", "kind", "bucket", "amount", "cause_type", "cause_id", "created_at"],
            select(
                moved.c.id,
                literal_column(f"'{EntryKind.ACCRUAL.value}'"),
                literal_column(f"'{bucket}'"),
                value("credit_points", Integer()),
                value("credit_cause", String()),
                cast(registration_id, String()),
                value("credit_at", ShortUTCDateTime()),
            )
            .select_from(moved)
            .join(source, true()),
        )
        .returning(_ENTRIES.c.id, _ENTRIES.c.account_id)
    )
    if bucket == Bucket.PENDING.value:  # pending points get their lot when confirmed
        return (entry,)
    entry = entry.cte("entry")
    return (
        insert(_LOTS)
        .from_select(
            ["account_id", "entry_id", "earned_at", "expires_at", "amount", "remaining"],
            select(
                entry.c.account_id,
                entry.c.id,
                value("credit_at", ShortUTCDateTime()),
                value("credit_expires", ShortUTCDateTime()),
                value("credit_points", Integer()),
                value("credit_points", Integer()),
            ),
        )
        .returning(_LOTS.c.id),
    )


def _forget_held_balances(session: Session, holder: AccountKind, holder_id: int) -> None:
    """An Account of the holder the session already holds reloads its balances, which a statement
    outside the ORM moved."""
    column = "user_id" if holder is AccountKind.PERSON else "outlet_id"
    for held in list(session.identity_map.values()):
        if isinstance(held, Account) and sa_inspect(held).dict.get(column) == holder_id:
            session.expire(held, ["active", "pending"])


def _credit(
    session: Session, holder: AccountKind, holder_id: int, values: dict[str, Any], expires_at: datetime | None
) -> Credit:
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


def _write_in_three(
    connection: Connection,
    holder: AccountKind,
    holder_id: int,
    values: dict[str, Any],
    expires_at: datetime | None,
) -> Written | None:
    """The balance UPDATE, the entry INSERT and the lot INSERT; None if the holder has no account."""
    moved = connection.execute(
        _balance_statement(holder, values["bucket"]), {"holder": holder_id, "amount": values["amount"]}
    ).first()
    if moved is None:
        return None
    account_id, active, pending = moved
    entry_id = connection.execute(_INSERT_ENTRY, {**values, "account_id": account_id}).scalar_one()
    if values["bucket"] == Bucket.ACTIVE.value:  # pending points get their lot when confirmed
        connection.execute(
            _INSERT_LOT,
            {
                "account_id": account_id,
                "entry_id": entry_id,
                "expires_at": expires_at,
                "earned_at": values["created_at"],
                "amount": values["amount"],
                "remaining": values["amount"],
            },
        )
    return account_id, active, pending, entry_id


def _write_in_one(
    connection: Connection,
    holder: AccountKind,
    holder_id: int,
    values: dict[str, Any],
    expires_at: datetime | None,
) -> Written | None:
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
    return (
        update(_ACCOUNTS)
        .where(holder_column == bindparam("holder"))
        .values({balance: balance + bindparam("amount")})
        .returning(_ACCOUNTS.c.id, _ACCOUNTS.c.active, _ACCOUNTS.c.pending)
    )


@functools.cache
def _credit_statement(holder: AccountKind, bucket: str) -> Select:
    """WITH moved AS (UPDATE the balance RETURNING ...), entry AS (INSERT the entry SELECT ... FROM
    moved RETURNING ...)[, lot AS (INSERT the lot SELECT ... FROM entry)] SELECT account id,
    balances, entry id: nothing is written, and no row comes back, if the holder has no account.
    The entry's parameters are entry_<column>, for the reason `_balance_statement` gives.
    """
    moved = _balance_statement(holder, bucket).cte("moved")
    entry_values = [bindparam(f"entry_{field}", type_=_ENTRIES.c[field].type) for field in _ENTRY_FIELDS]
    entry = (
        insert(_ENTRIES)
        .from_select(["account_id", *_ENTRY_FIELDS], select(moved.c.id, *entry_values))
        .returning(_ENTRIES.c.id, _ENTRIES.c.account_id, _ENTRIES.c.amount, _ENTRIES.c.created_at)
        .cte("entry")
    )
    statement = select(moved.c.id, moved.c.active, moved.c.pending, entry.c.id).join_from(
        moved, entry, entry.c.account_id == moved.c.id
    )
    if bucket == Bucket.ACTIVE.value:  # pending points get their lot when confirmed
        lot_values = select(
            entry.c.account_id,
            entry.c.id,
            entry.c.created_at,
            bindparam("expires_at", type_=_LOTS.c.expires_at.type),
            entry.c.amount,
            entry.c.amount,
        )
        lot = (
            insert(_LOTS)
            .from_select(
                ["account_id", "entry_id", "earned_at", "expires_at", "amount", "remaining"], lot_values
            )
            .cte("lot")
        )
        statement = statement.add_cte(lot)
    return statement


def _create_account(session: Session, holder: AccountKind, holder_id: int) -> None:
    """An empty account for the holder. A parallel transaction may create it first: the unique
    holder column decides, and the loser goes on with the winner's row."""
    holder_column = "user_id" if holder is AccountKind.PERSON else "outlet_id"
    try:
        with savepoint(session):
            session.connection().execute(
                insert(_ACCOUNTS),
                {
                    "kind": holder.value,
                    holder_column: holder_id,
                    "active": 0,
                    "pending": 0,
                    "created_at": utcnow(),
                },
            )
    except IntegrityError:
        pass


def _sync_held_account(session: Session, account_id: int, active: int, pending: int) -> None:
    """An Account the session already holds shows the balances the Core UPDATE left."""
    account = session.identity_map.get(_ACCOUNT_MAPPER.identity_key_from_primary_key((account_id,)))
    if account is not None:
        set_committed_value(account, "active", active)
        set_committed_value(account, "pending", pending)


# --- shared with the other movements of points (services.py) ---------------


def require_positive(amount: Any) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise Invalid(_l("The number of points must be a whole number above zero."), code="invalid_amount")


def actor_id_of(actor: User | int | None) -> int | None:
    if actor is None or isinstance(actor, int):
        return actor
    return actor.id
