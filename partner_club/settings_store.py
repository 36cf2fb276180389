"""Settings the admin changes at run time (expiry policy, point value, ...).

Stored as JSON by key; every read names its default, so a fresh database
works without seeding.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, bindparam, event, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.functions import FunctionElement

from partner_club.database import UTCDateTime, ends_unit_of_work, utcnow
from partner_club.extensions import db


class Setting(db.Model):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


# Values read in the session's current transaction (_ABSENT: no row), so every hot path reads
# a setting once per transaction whoever asks; dropped at the transaction's end.
_VALUES = "settings_store.values"
_ABSENT = object()
# Keys someone asked to read with the transaction's next read (see `read_with_next`).
_NEXT = "settings_store.next"

# Keys read on every registration (registered by the packages that read them): the first
# miss of a transaction reads them all in one query instead of one query each.
_READ_TOGETHER: set[str] = set()


def read_together(*keys: str) -> None:
    """Marks settings a hot path reads, so the first read of a transaction brings them all."""
    _READ_TOGETHER.update(keys)


def read_with_next(session: Session, *keys: str) -> None:
    """Settings this transaction will need (a shop's own rule, say), read by its next read
    instead of by a query of their own later; no query now."""
    session.info.setdefault(_NEXT, set()).update(keys)


def get_setting(session: Session, key: str, default: Any) -> Any:
    values = session.info.setdefault(_VALUES, {})
    if key not in values:
        prefetch_settings(session, _READ_TOGETHER | {key})
    value = values[key]
    return default if value is _ABSENT else value


def prefetch_settings(session: Session, keys: Iterable[str]) -> None:
    """Reads several settings in one query, so the `get_setting` calls that follow need none."""
    wanted = (set(keys) | session.info.get(_NEXT, set())) - session.info.get(_VALUES, {}).keys()
    if wanted:
        found = dict(session.connection().execute(_read_statement(), {"keys": list(wanted)}).all())
        remember_read(session, wanted, found)


def due_keys(session: Session) -> list[str]:
    """The keys the transaction's next settings read would bring (see `read_along`)."""
    return sorted((_READ_TOGETHER | session.info.get(_NEXT, set())) - session.info.get(_VALUES, {}).keys())


def read_along():
    """The settings named by the expanding bind parameter `settings_keys`, as one JSON object
    (NULL when none is stored): a column a hot path adds to a statement it runs anyway, with
    `settings_keys=due_keys(session)`, then hands the value to `remember_read`. One statement
    fewer per registration."""
    return (
        select(_JsonObjectAgg(Setting.key, Setting.value))
        .where(Setting.key.in_(bindparam("settings_keys", expanding=True)))
        .scalar_subquery()
    )


def remember_read(session: Session, keys: Iterable[str], found: dict[str, Any] | None) -> None:
    """Keeps the values `read_along` brought for `keys` (a key not in `found` has no row)."""
    keys = list(keys)
    found = found or {}
    session.info.setdefault(_VALUES, {}).update({key: found.get(key, _ABSENT) for key in keys})
    session.info.get(_NEXT, set()).difference_update(keys)


class _JsonObjectAgg(FunctionElement):
    """json_object_agg(key, value) on PostgreSQL, json_group_object on SQLite."""

    type = JSON()
    inherit_cache = True
    name = "json_object_agg"


@compiles(_JsonObjectAgg)
def _json_object_agg(element, compiler, **kw):
    return f"json_object_agg({compiler.process(element.clauses, **kw)})"


@compiles(_JsonObjectAgg, "sqlite")
def _json_group_object(element, compiler, **kw):
    key, value = element.clauses
    return f"json_group_object({compiler.process(key, **kw)}, json({compiler.process(value, **kw)}))"


@functools.cache
def _read_statement():
    return select(Setting.key, Setting.value).where(Setting.key.in_(bindparam("keys", expanding=True)))


def put_setting(session: Session, key: str, value: Any, *, actor_id: int | None = None) -> Setting:
    session.info.get(_VALUES, {}).pop(key, None)
    row = session.get(Setting, key)
    if row is None:
        row = Setting(key=key, value=value, updated_by_id=actor_id)
        session.add(row)
    else:
        row.value = value
        row.updated_by_id = actor_id
    session.flush()
    return row


@event.listens_for(Session, "after_transaction_end")
def _forget_values(session: Session, transaction: Any) -> None:
    """Another transaction may have changed the settings since (savepoints too: the cache is
    only ever dropped early), but a flush's inner transaction changes nothing."""
    if ends_unit_of_work(transaction):
        session.info.pop(_VALUES, None)
        session.info.pop(_NEXT, None)
