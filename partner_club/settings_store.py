"""Settings the admin changes at run time (expiry policy, point value, ...).

Stored as JSON by key; every read names its default, so a fresh database
works without seeding.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from partner_club.database import UTCDateTime, utcnow
from partner_club.extensions import db


class Setting(db.Model):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))


def get_setting(session: Session, key: str, default: Any) -> Any:
    row = session.get(Setting, key)
    return default if row is None else row.value


def put_setting(session: Session, key: str, value: Any, *, actor_id: int | None = None) -> Setting:
    row = session.get(Setting, key)
    if row is None:
        row = Setting(key=key, value=value, updated_by_id=actor_id)
        session.add(row)
    else:
        row.value = value
        row.updated_by_id = actor_id
    session.flush()
    return row
