"""Small helpers shared by every model."""

from __future__ import annotations

import enum
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, TypeDecorator, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, SessionTransaction, SessionTransactionOrigin


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes on SQLite too (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def enum_check(column: str, enum_cls: type[enum.Enum], name: str | None = None) -> CheckConstraint:
    """A CHECK constraint that keeps a string column inside an enum's values."""
    values = ", ".join(f"'{member.value}'" for member in enum_cls)
    return CheckConstraint(f"{column} IN ({values})", name=name or f"{column}_valid")


@event.listens_for(Engine, "connect")
def _sqlite_enforces_foreign_keys(dbapi_connection, _record) -> None:
    """SQLite checks foreign keys only when asked, on every connection."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def savepoint(session: Session) -> AbstractContextManager[Any]:
    """A savepoint on PostgreSQL; on SQLite, nothing.

    pysqlite opens its own transaction only at the first INSERT/UPDATE, so a
    SAVEPOINT sent before that starts the transaction itself and its RELEASE
    commits everything: a later rollback would not undo it. SQLite has one
    writer at a time, so the races savepoints guard against (two first
    inserts of the same unique row) cannot happen there; on PostgreSQL they
    can, and the savepoint lets the loser recover and read the winner's row.
    """
    if session.get_bind().dialect.name == "postgresql":
        return session.begin_nested()
    return nullcontext()


def ends_unit_of_work(transaction: SessionTransaction) -> bool:
    """Whether an `after_transaction_end` is a real end (a commit, a rollback, a savepoint's
    release or rollback) rather than the inner transaction every flush opens and closes:
    caches kept for a transaction (settings, throttle counters) outlive flushes."""
    return transaction.origin is not SessionTransactionOrigin.SUBTRANSACTION
