"""Rows other packages write along with a registration, in the registration's own statement.

Every stored registration brings rows of other packages: fraud's observation of the attempt,
the reports' rollups, the ledger's credit. As statements of their own they would cost every
registration a round trip and a statement's fixed Python each. So `codes` collects them before
it inserts (`registration_companions`, sender: the `RegistrationAttempt`; a receiver returns a
`Companion` or None; the ledger's credit, which codes asks for directly) and `store` writes
them: on PostgreSQL as data-modifying WITH parts of the registration's INSERT that read its
RETURNING row, so that they are written if and only if the registration is (a code a parallel
request took first writes nothing); elsewhere (SQLite) one after the other once the
registration has its id.

A companion's statements take their values from its own parameters, named apart from the
registration's columns and from other companions' (a package prefix), and the registration's
id from the expression they are built with. A companion that needs to know what its writes did
(the ledger: was there an account to credit?) has a `finish`, called once the registration is
stored with the number of rows its last write returned.

psycopg converts a statement's text for every execution unless it is at most 4 KB long with
at most 50 parameters; the composed statement stays within both,
which is why the companions' SELECT lists are unlabelled (`value`); a test in
`tests/codes/test_registration.py` guards both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, bindparam, func, select, text, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement, FromClause, Insert, TextClause
from sqlalchemy.types import TypeEngine

from partner_club.signals import RegistrationAttempt, registration_companions

# build(dialect, registration_id, source) -> INSERT statements (or UPDATEs chained into one).
# `source` is the stored registration's row (a FROM with one row, or none) in the registration's
# statement, and None where the companions run after it. An empty sequence: nothing rides along.
Builder = Callable[[str, ColumnElement, FromClause | None], Sequence[Any]]
# finish(session, registration id, rows): `rows` is how many rows the companion's last write
# returned in the registration's statement, or None where its writes ran after it (or it had none).
Finisher = Callable[[Session, int, int | None], None]


@dataclass(frozen=True)
class Companion:
    key: str  # the statements' shape: one key, one set of statements
    build: Builder
    params: Mapping[str, Any]
    finish: Finisher | None = None


def collect(attempt: RegistrationAttempt) -> list[Companion]:
    """The companions of the registration about to be stored, from every receiver."""
    return [
        answer for _receiver, answer in registration_companions.send(attempt) if isinstance(answer, Companion)
    ]


def value(name: str, type_: TypeEngine) -> TextClause:
    """A parameter in a companion's SELECT list, typed, without the `AS anon_<n>` label SQLAlchemy
    gives a bound value there (every character counts against psycopg's 4 KB, see above)."""
    return text(f":{name}").bindparams(bindparam(name, type_=type_))


def values_of(columns: Sequence[Any], source: FromClause | None) -> Select:
    """The SELECT an `INSERT ... FROM SELECT` companion takes its row from: one row per stored
    registration, or exactly one. (SQLite needs the WHERE to read a following ON CONFLICT.)"""
    rows = select(*columns)
    return rows.select_from(source) if source is not None else rows.where(true())


def store(
    session: Session,
    key: str,
    registration: Callable[[str], Insert],
    values: Mapping[str, Any],
    companions: Sequence[Companion],
) -> int | None:
    """Inserts the registration (`registration(dialect)`: an INSERT ... RETURNING id that returns no
    row when it stores nothing, named by `key`) with its companions; the registration's id, or None
    if nothing was stored. Runs each companion's `finish` once it is stored."""
    connection = session.connection()  # Core statements: no ORM layer, nothing to flush first
    dialect = connection.dialect.name
    if dialect != "postgresql":
        registration_id = connection.execute(registration(dialect), values).scalar()
        if registration_id is not None:
            write_after(session, companions, registration_id)
        return registration_id
    statement, counted = _with_registration(key, registration(dialect), companions)
    row = connection.execute(statement, _parameters(values, companions)).first()
    if row is None:
        return None
    registration_id, rows = row[0], dict(zip(counted, row[1:], strict=False))
    for n, companion in enumerate(companions):
        if companion.finish is not None:
            companion.finish(session, registration_id, rows.get(n))
    return registration_id


_WITH: dict[tuple[str, ...], tuple[Select, tuple[int, ...]]] = {}
_AFTER: dict[tuple[str, str], Sequence[Any]] = {}


def _with_registration(
    key: str, registration: Insert, companions: Sequence[Companion]
) -> tuple[Select, tuple[int, ...]]:
    """One PostgreSQL statement: `registration` with the companions' writes as WITH parts. It returns
    the id (no row if nothing was stored) and, for each companion with a `finish` and writes, the
    rows its last write returned; the second element names those companions by position."""
    cache_key = (key, *(companion.key for companion in companions))
    cached = _WITH.get(cache_key)
    if cached is None:
        stored = registration.cte("stored")
        parts, counts, counted = [], [], []
        for n, companion in enumerate(companions):
            writes = [
                write.cte(f"c{len(parts) + i}")
                for i, write in enumerate(companion.build("postgresql", stored.c.id, stored))
            ]
            parts.extend(writes)
            if writes and companion.finish is not None:
                counts.append(select(func.count()).select_from(writes[-1]).scalar_subquery())
                counted.append(n)
        cached = _WITH[cache_key] = (select(stored.c.id, *counts).add_cte(*parts), tuple(counted))
    return cached


def _parameters(values: Mapping[str, Any], companions: Sequence[Companion]) -> dict[str, Any]:
    merged = dict(values)
    for companion in companions:
        merged.update(companion.params)
    return merged


def write_after(session: Session, companions: Sequence[Companion], registration_id: int | None) -> None:
    """The companions as statements of their own, once the registration is stored (None: a
    companion that does not refer to it, written on its own), then their `finish`."""
    connection = session.connection()
    dialect = connection.dialect.name
    for companion in companions:
        writes = _AFTER.get((dialect, companion.key))
        if writes is None:
            writes = _AFTER[(dialect, companion.key)] = companion.build(
                dialect, bindparam("registration_id", type_=Integer()), None
            )
        for write in writes:
            connection.execute(write, {**companion.params, "registration_id": registration_id})
        if companion.finish is not None and registration_id is not None:
            companion.finish(session, registration_id, None)
