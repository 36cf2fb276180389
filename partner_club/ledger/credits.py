"""`credit`: the one way points are added to an account.

Every source of points calls it: codes for a registration (base points now; campaigns,
welcome and referral points later, as more lines of the same breakdown), catalog for a
refund, the ledger itself for a confirmation, an upward adjustment or the reversal of a
debit, and every future source (target actions, challenges). One call writes, per account
credited:

1. `UPDATE point_accounts SET <bucket> = <bucket> + :points WHERE <holder> RETURNING ...`,
   which takes the account's row lock (no SELECT ... FOR UPDATE first), and opens the
   account when the holder has none yet;
2. the ledger entry, with its cause and its breakdown (where the points came from);
3. for active points, the lot they are spent and expire from (held points get their lot
   when a reviewer confirms them).

The writes are Core statements with no ORM objects built; an Account the session already
holds is kept true to the new balances. Like the rest of the ledger, `credit` flushes and
never commits.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from flask_babel import lazy_gettext as _l
from sqlalchemy import Update, bindparam, insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from partner_club.accounts.models import User
from partner_club.database import savepoint, utcnow
from partner_club.errors import Invalid, NotFound
from partner_club.ledger.models import Account, AccountKind, Bucket, EntryKind, LedgerEntry, PointLot
from partner_club.ledger.policy import RegistrationRule, expiry_policy, registration_rule


class CreditKind(str, enum.Enum):
    """What a credit is; `hold` is an accrual kept pending until a reviewer decides."""

    ACCRUAL = "accrual"
    HOLD = "hold"
    ACTION = "action"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"
    REVERSAL = "reversal"  # the undoing of a debit (a reversal of a credit is a debit)
    CONFIRMATION = "confirmation"  # held points made active by a reviewer


class Source(TypedDict, total=False):
    """One line of a breakdown: `source` is base, campaign, welcome, referral, action, ..."""

    source: str
    points: int
    campaign: int
    # A campaign's line also names it and its mechanic, for the participant's history.
    name: str
    mechanic: str
    value: float


@dataclass(frozen=True, slots=True)
class Credit:
    """One account's share of a credit, as written."""

    holder: str  # AccountKind: person or outlet
    account_id: int
    entry_id: int
    bucket: str
    amount: int
    breakdown: list[Source]


@dataclass(frozen=True, slots=True)
class Holder:
    kind: AccountKind
    id: int  # the user's or the shop's id; for an account given as such, the account's own
    by_account: bool = False


def credit(
    session: Session,
    owner: User | Account,
    points: int,
    *,
    cause_type: str,
    cause_id: Any,
    kind: CreditKind | str = CreditKind.ACCRUAL,
    breakdown: Sequence[Source] | None = None,
    by_shop_rule: bool = False,
    actor: User | int | None = None,
    at: datetime | None = None,
    reason: str | None = None,
    reverses_id: int | None = None,
) -> list[Credit]:
    """Adds `points` to the owner's account (a person, or an account given as such).

    With `by_shop_rule`, the shop's registration rule decides whether the person, the shop or
    both get them: each line of the breakdown is shared by the rule, so every entry's breakdown
    adds up to its amount. The breakdown defaults to one line named after the kind.
    """
    require_positive(points)
    kind = CreditKind(kind)
    lines = list(breakdown) if breakdown is not None else [Source(source=kind.value, points=points)]
    if sum(line["points"] for line in lines) != points:
        raise ValueError("a credit's breakdown must add up to its points")
    at = at or utcnow()
    bucket = Bucket.PENDING if kind is CreditKind.HOLD else Bucket.ACTIVE
    entry_kind = EntryKind.ACCRUAL if kind is CreditKind.HOLD else EntryKind(kind.value)
    expires_at = expiry_policy(session).expires_at(at) if bucket is Bucket.ACTIVE else None
    session.flush()  # balances an ORM Account still has to write go first
    written = []
    for holder, share in _shares(session, owner, lines, by_shop_rule):
        amount = sum(line["points"] for line in share)
        entry = {
            "kind": entry_kind.value,
            "bucket": bucket.value,
            "amount": amount,
            "cause_type": cause_type,
            "cause_id": None if cause_id is None else str(cause_id),
            "actor_id": actor_id_of(actor),
            "created_at": at,
            "reason": reason,
            "reverses_id": reverses_id,
            "breakdown": share,
        }
        written.append(_write(session, holder, entry, expires_at))
    return written


def _shares(
    session: Session, owner: User | Account, lines: list[Source], by_shop_rule: bool
) -> Iterator[tuple[Holder, list[Source]]]:
    """(holder, its lines of the breakdown) of every account the points go to."""
    if isinstance(owner, Account):
        yield Holder(AccountKind(owner.kind), owner.id, by_account=True), lines
        return
    if not by_shop_rule or owner.outlet_id is None:
        yield Holder(AccountKind.PERSON, owner.id), lines
        return
    yield from _split(registration_rule(session, owner.outlet_id), owner.id, owner.outlet_id, lines)


def _split(
    rule: RegistrationRule, person_id: int, outlet_id: int, lines: list[Source]
) -> Iterator[tuple[Holder, list[Source]]]:
    """Each line of the breakdown shared between the person and the shop by the shop's rule."""
    person: list[Source] = []
    shop: list[Source] = []
    for line in lines:
        person_points, shop_points = rule.shares(line["points"])
        if person_points:
            person.append({**line, "points": person_points})
        if shop_points:
            shop.append({**line, "points": shop_points})
    if person:
        yield Holder(AccountKind.PERSON, person_id), person
    if shop:
        yield Holder(AccountKind.OUTLET, outlet_id), shop


def _write(session: Session, holder: Holder, entry: dict[str, Any], expires_at: datetime | None) -> Credit:
    connection = session.connection()
    statement = _balance_statement(holder.kind, entry["bucket"], by_account=holder.by_account)
    parameters = {"holder_id": holder.id, "points": entry["amount"]}
    moved = connection.execute(statement, parameters).first()
    if moved is None and not holder.by_account:  # the holder's first points
        _open_account(session, holder)
        moved = connection.execute(statement, parameters).first()
    if moved is None:
        raise NotFound(_l("This points account does not exist."), code="no_account")
    account_id, active, pending = moved
    entry_id = connection.execute(_INSERT_ENTRY, {**entry, "account_id": account_id}).scalar_one()
    if entry["bucket"] == Bucket.ACTIVE.value:
        connection.execute(
            _INSERT_LOT,
            {
                "account_id": account_id,
                "entry_id": entry_id,
                "earned_at": entry["created_at"],
                "expires_at": expires_at,
                "amount": entry["amount"],
                "remaining": entry["amount"],
            },
        )
    _sync_held_account(session, account_id, active, pending)
    return Credit(
        holder.kind.value, account_id, entry_id, entry["bucket"], entry["amount"], entry["breakdown"]
    )


_ACCOUNTS, _ENTRIES, _LOTS = Account.__table__, LedgerEntry.__table__, PointLot.__table__
_ACCOUNT_MAPPER = sa_inspect(Account)
_INSERT_ENTRY = insert(_ENTRIES).returning(_ENTRIES.c.id)
_INSERT_LOT = insert(_LOTS)


@functools.cache
def _balance_statement(kind: AccountKind, bucket: str, *, by_account: bool) -> Update:
    """UPDATE point_accounts SET <bucket> = <bucket> + :points WHERE <holder> = :holder_id
    RETURNING id, active, pending."""
    holder_column = _ACCOUNTS.c.user_id if kind is AccountKind.PERSON else _ACCOUNTS.c.outlet_id
    balance = _ACCOUNTS.c[bucket]
    return (
        update(_ACCOUNTS)
        .where((_ACCOUNTS.c.id if by_account else holder_column) == bindparam("holder_id"))
        .values({balance: balance + bindparam("points")})
        .returning(_ACCOUNTS.c.id, _ACCOUNTS.c.active, _ACCOUNTS.c.pending)
    )


def _open_account(session: Session, holder: Holder) -> None:
    """An empty account for the holder. A parallel transaction may open it first: the unique
    holder column decides, and the loser goes on with the winner's row."""
    holder_column = "user_id" if holder.kind is AccountKind.PERSON else "outlet_id"
    try:
        with savepoint(session):
            session.connection().execute(
                insert(_ACCOUNTS),
                {
                    "kind": holder.kind.value,
                    holder_column: holder.id,
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


# --- many accruals at once (history imports) ---------------------------------


@dataclass(frozen=True, slots=True)
class Accrual:
    """One registration's active points for `credit_many`."""

    person_id: int
    outlet_id: int | None
    points: int
    breakdown: list[Source]
    cause_id: int
    at: datetime


def credit_many(session: Session, accruals: Sequence[Accrual], *, cause_type: str) -> int:
    """Active accruals in bulk, shared by each shop's rule as `credit(..., by_shop_rule=True)`
    shares one: the same entries, lots and balances, in four statements for thousands of
    accruals instead of three each. For history moving in from an earlier programme.
    Answers the number of entries written."""
    if not accruals:
        return 0
    session.flush()
    policy = expiry_policy(session)
    rules: dict[int, RegistrationRule] = {}
    shares: list[tuple[Holder, list[Source], Accrual]] = []
    for accrual in accruals:
        require_positive(accrual.points)
        if sum(line["points"] for line in accrual.breakdown) != accrual.points:
            raise ValueError("a credit's breakdown must add up to its points")
        if accrual.outlet_id is None:
            shares.append((Holder(AccountKind.PERSON, accrual.person_id), accrual.breakdown, accrual))
            continue
        if accrual.outlet_id not in rules:
            rules[accrual.outlet_id] = registration_rule(session, accrual.outlet_id)
        for holder, lines in _split(
            rules[accrual.outlet_id], accrual.person_id, accrual.outlet_id, accrual.breakdown
        ):
            shares.append((holder, lines, accrual))
    accounts = _account_ids(session, {holder for holder, _lines, _accrual in shares})
    connection = session.connection()
    balances: dict[int, int] = {}
    entries: list[dict[str, Any]] = []
    for holder, lines, accrual in shares:
        amount = sum(line["points"] for line in lines)
        balances[accounts[holder]] = balances.get(accounts[holder], 0) + amount
        entries.append(
            {
                "account_id": accounts[holder],
                "kind": EntryKind.ACCRUAL.value,
                "bucket": Bucket.ACTIVE.value,
                "amount": amount,
                "cause_type": cause_type,
                "cause_id": str(accrual.cause_id),
                "actor_id": None,
                "created_at": accrual.at,
                "reason": None,
                "reverses_id": None,
                "breakdown": lines,
            }
        )
    # Balances first, in the order of the accounts, as `credit` takes the row locks first.
    connection.execute(
        update(_ACCOUNTS)
        .where(_ACCOUNTS.c.id == bindparam("account"))
        .values(active=_ACCOUNTS.c.active + bindparam("points")),
        [{"account": account, "points": points} for account, points in sorted(balances.items())],
    )
    entry_ids = connection.execute(
        insert(_ENTRIES).returning(_ENTRIES.c.id, sort_by_parameter_order=True), entries
    ).scalars()
    connection.execute(
        _INSERT_LOT,
        [
            {
                "account_id": entry["account_id"],
                "entry_id": entry_id,
                "earned_at": entry["created_at"],
                "expires_at": policy.expires_at(entry["created_at"]),
                "amount": entry["amount"],
                "remaining": entry["amount"],
            }
            for entry, entry_id in zip(entries, entry_ids, strict=True)
        ],
    )
    for account_id in balances:
        account = session.identity_map.get(_ACCOUNT_MAPPER.identity_key_from_primary_key((account_id,)))
        if account is not None:
            session.expire(account, ["active", "pending"])
    return len(entries)


def _account_ids(session: Session, holders: set[Holder]) -> dict[Holder, int]:
    """The account id of each holder, opening the accounts not there yet."""

    def known() -> dict[Holder, int]:
        found: dict[Holder, int] = {}
        for kind, column in (
            (AccountKind.PERSON, _ACCOUNTS.c.user_id),
            (AccountKind.OUTLET, _ACCOUNTS.c.outlet_id),
        ):
            ids = sorted(holder.id for holder in holders if holder.kind is kind)
            for start in range(0, len(ids), 500):
                rows = session.connection().execute(
                    select(column, _ACCOUNTS.c.id).where(column.in_(ids[start : start + 500]))
                )
                found.update((Holder(kind, holder_id), account_id) for holder_id, account_id in rows)
        return found

    accounts = known()
    missing = holders - accounts.keys()
    for holder in missing:
        _open_account(session, holder)
    if missing:
        accounts = known()
    return accounts


# --- shared with the other movements of points (services.py) ---------------


def require_positive(amount: Any) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise Invalid(_l("The number of points must be a whole number above zero."), code="invalid_amount")


def actor_id_of(actor: User | int | None) -> int | None:
    if actor is None or isinstance(actor, int):
        return actor
    return actor.id
