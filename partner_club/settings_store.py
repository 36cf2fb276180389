"""Settings the admin changes at run time (expiry policy, point value, ...).

Stored as JSON by key; every read names its default, so a fresh database
works without seeding.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Optional

from sqlalchemy import JSON, ForeignKey, String, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from partner_club.database import UTCDateTime, utcnow
from partner_club.extensions import db


class Setting(db.Model):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))


# Rows (None: absent) read in the session's current transaction. The identity map alone spares
# a second read of a stored setting, but not of an absent one, and it drops rows nobody holds.
_ROWS = "settings_store.rows"


def get_setting(session: Session, key: str, default: Any) -> Any:
    rows = session.info.setdefault(_ROWS, {})
    if key in rows:
        row = rows[key]
    else:
        row = rows[key] = session.get(Setting, key)
    return default if row is None else row.value


def prefetch_settings(session: Session, keys: Iterable[str]) -> None:
    """Reads several settings in one query, so the `get_setting` calls that follow need none."""
    rows = session.info.setdefault(_ROWS, {})
    wanted = set(keys) - rows.keys()
    if not wanted:
        return
    found = {row.key: row for row in session.scalars(select(Setting).where(Setting.key.in_(wanted)))}
    rows.update({key: found.get(key) for key in wanted})


def put_setting(session: Session, key: str, value: Any, *, actor_id: int | None = None) -> Setting:
    session.info.get(_ROWS, {}).pop(key, None)
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
def _forget_rows(session: Session, transaction: Any) -> None:
    """Another transaction may have changed the settings since (any end, savepoints too: the
    cache is only ever dropped early)."""
    session.info.pop(_ROWS, None)
