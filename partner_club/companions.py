"""Rows other packages write along with a registration, in the registration's own statement.

Every stored registration brings rows of other packages: fraud's observation of the attempt,
the reports' rollups. As statements of their own they would cost every registration a round
trip and a statement's fixed Python each. So `codes` asks for them before it inserts
(`registration_companions`, sender: the `RegistrationAttempt`; a receiver returns a
`Companion` or None) and, on PostgreSQL, runs them as data-modifying WITH parts of the
registration's INSERT that read its RETURNING row: they are written if and only if the
registration is (a code a parallel request took first writes nothing). Elsewhere (SQLite)
they run one after the other once the registration has its id.

A companion's statements take their values from its own parameters, named apart from the
registration's columns and from other companions' (a package prefix), and the registration's
id from the expression they are built with.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence

from sqlalchemy import Connection, Integer, Select, bindparam, select, true
from sqlalchemy.sql.expression import ColumnElement, FromClause, Insert

from partner_club.signals import RegistrationAttempt, registration_companions

# build(dialect, registration_id, source) -> INSERT statements. `source` is the stored
# registration's row (a FROM with one row, or none) in the registration's statement, and None
# where the companions run after it.
Builder = Callable[[str, ColumnElement, Optional[FromClause]], Sequence[Insert]]


@dataclass(frozen=True)
class Companion:
    key: str                       # the statements' shape: one key, one set of statements
    build: Builder
    params: Mapping[str, Any]


def collect(attempt: RegistrationAttempt) -> list[Companion]:
    """The companions of the registration about to be stored, from every receiver."""
    return [answer for _receiver, answer in registration_companions.send(attempt) if isinstance(answer, Companion)]


def values_of(columns: Sequence[ColumnElement], source: Optional[FromClause]) -> Select:
    """The SELECT an `INSERT ... FROM SELECT` companion takes its row from: one row per stored
    registration, or exactly one. (SQLite needs the WHERE to read a following ON CONFLICT.)"""
    rows = select(*columns)
    return rows.select_from(source) if source is not None else rows.where(true())


_WITH: dict[tuple[str, ...], Select] = {}
_AFTER: dict[tuple[str, str], Sequence[Insert]] = {}


def with_registration(key: str, registration: Insert, companions: Sequence[Companion]) -> Select:
    """One PostgreSQL statement: `registration` (an INSERT ... RETURNING id, named by `key`)
    with the companions' writes as WITH parts; it returns the id, or no row if nothing was stored."""
    cache_key = (key, *(companion.key for companion in companions))
    statement = _WITH.get(cache_key)
    if statement is None:
        stored = registration.cte("stored")
        writes = [write for companion in companions for write in companion.build("postgresql", stored.c.id, stored)]
        statement = select(stored.c.id).add_cte(*(write.cte(f"companion_{n}") for n, write in enumerate(writes)))
        _WITH[cache_key] = statement
    return statement


def parameters(values: Mapping[str, Any], companions: Sequence[Companion]) -> dict[str, Any]:
    """The registration's values and every companion's parameters, for `with_registration`."""
    merged = dict(values)
    for companion in companions:
        merged.update(companion.params)
    return merged


def write_after(connection: Connection, companions: Sequence[Companion], registration_id: Optional[int]) -> None:
    """The companions as statements of their own, once the registration is stored (None: a
    companion that does not refer to it, written on its own)."""
    dialect = connection.dialect.name
    for companion in companions:
        writes = _AFTER.get((dialect, companion.key))
        if writes is None:
            writes = _AFTER[(dialect, companion.key)] = companion.build(
                dialect, bindparam("registration_id", type_=Integer()), None)
        for write in writes:
            connection.execute(write, {**companion.params, "registration_id": registration_id})
