"""Settings the admin changes at run time (expiry policy, point value, ...).

Stored as JSON by key; every read names its default, so a fresh database
works without seeding.

Every process keeps all settings in memory, tagged with the version they were
read at. The version is a row of its own (`VERSION_KEY`) that every write
replaces with a new random token, so a transaction asks one question — is the
version still the one I hold? — and reads the whole table again only when
another transaction changed something. Inside one transaction the answer is
asked once, so a setting never changes under a request; what the transaction
itself writes it sees at once. A hot statement that runs first anyway can ask
the question for it: it carries `version_column()`, and `as_of_version` takes
the answer (the registration's lookup does).
"""

from __future__ import annotations

import functools
import secrets
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from partner_club.database import UTCDateTime, ends_unit_of_work, utcnow
from partner_club.extensions import db

VERSION_KEY = "settings.version"


class Setting(db.Model):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class _ProcessCache:
    """All settings of one database, as read at `version`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_database: dict[str, tuple[Any, dict[str, Any]]] = {}


_CACHE = _ProcessCache()
# The values this transaction sees: the process cache's dict, checked once against the stored
# version, overlaid with what the transaction wrote itself. Dropped at the transaction's end.
_SEEN = "settings_store.seen"


def get_setting(session: Session, key: str, default: Any) -> Any:
    values = _seen(session)
    return values[key] if key in values and values[key] is not None else default


def _seen(session: Session) -> dict[str, Any]:
    seen = session.info.get(_SEEN)
    if seen is None:
        seen = session.info[_SEEN] = dict(_current(session))
    return seen


def version_column() -> Any:
    """The stored version as a column, for a statement that runs before any setting is read."""
    return _version_statement().scalar_subquery().label("settings_version")


def as_of_version(session: Session, version: Any) -> None:
    """This transaction reads the settings at `version`, which a statement carrying
    `version_column()` has just read: the transaction does not ask again."""
    if _SEEN not in session.info:
        session.info[_SEEN] = dict(_current(session, version))


_UNREAD = object()


def _current(session: Session, version: Any = _UNREAD) -> dict[str, Any]:
    """The process's copy of every setting, reloaded if the stored version moved on."""
    connection = session.connection()
    database = str(connection.engine.url)
    if version is _UNREAD:
        version = connection.execute(_version_statement()).scalar()
    with _CACHE.lock:
        kept = _CACHE.by_database.get(database)
    if kept is not None and kept[0] == version:
        return kept[1]
    # The version and the values come from one statement, so they agree with each other.
    values = dict(connection.execute(_all_statement()).all())
    version = values.pop(VERSION_KEY, None)
    with _CACHE.lock:
        _CACHE.by_database[database] = (version, values)
    return values


@functools.cache
def _version_statement():
    return select(Setting.value).where(Setting.key == VERSION_KEY)


@functools.cache
def _all_statement():
    return select(Setting.key, Setting.value)


def put_setting(session: Session, key: str, value: Any, *, actor_id: int | None = None) -> Setting:
    """Stores a setting and a new version, so every process reads the settings again."""
    row = _write(session, key, value, actor_id)
    _write(session, VERSION_KEY, secrets.token_hex(8), None)
    session.flush()
    _seen(session)[key] = value
    return row


def _write(session: Session, key: str, value: Any, actor_id: int | None) -> Setting:
    row = session.get(Setting, key)
    if row is None:
        row = Setting(key=key, value=value, updated_by_id=actor_id)
        session.add(row)
    else:
        row.value = value
        row.updated_by_id = actor_id
    return row


def forget_cached() -> None:
    """Drops the process's copy (a test suite that wipes the database under it)."""
    with _CACHE.lock:
        _CACHE.by_database.clear()


@event.listens_for(Session, "after_transaction_end")
def _forget_seen(session: Session, transaction: Any) -> None:
    """The next transaction asks for the version again (a flush's inner transaction changes nothing)."""
    if ends_unit_of_work(transaction):
        session.info.pop(_SEEN, None)
