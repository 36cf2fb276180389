"""Server-side sessions: every signed-in browser and every API token is a row that can end.

The browser's cookie and the API token carry a random session id (signed with
SECRET_KEY); the person is loaded together with their session in one query by
that id, so a session ended here (sign-out, a block, a new password, the
person's own revoke on the security page) stops working on its next request,
copies of the cookie included. Nothing ever revives an ended session.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from partner_club.accounts.models import SessionKind, User, UserSession
from partner_club.config import SESSION_DAYS
from partner_club.database import utcnow

# A session nobody used for this long is over (the cookie lasts as long).
SESSION_MAX_AGE = timedelta(days=SESSION_DAYS)
# `last_seen_at` is written at most this often: the devices list needs no finer time.
TOUCH_EVERY = timedelta(minutes=10)

_BROWSERS = (
    ("YaBrowser", "Yandex Browser"),
    ("Edg", "Edge"),
    ("OPR", "Opera"),
    ("Firefox", "Firefox"),
    ("Chrome", "Chrome"),
    ("Safari", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def device_label(user_agent: str | None) -> str:
    """'Chrome · Android': what a person recognises their device by (no address, no version)."""
    text = user_agent or ""
    browser = next((name for mark, name in _BROWSERS if mark in text), None)
    system = next((name for mark, name in _SYSTEMS if mark in text), None)
    if browser or system:
        return " · ".join(part for part in (browser, system) if part)
    first = re.split(r"[\s/;(]", text.strip(), maxsplit=1)[0]
    return first[:60] or "?"


def start_session(session: Session, user: User, *, kind: SessionKind, user_agent: str | None) -> UserSession:
    now = utcnow()
    row = UserSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        kind=kind.value,
        label=device_label(user_agent),
        created_at=now,
        last_seen_at=now,
    )
    session.add(row)
    session.flush()
    return row


def user_of_session(
    session: Session, session_id: str, *, kind: SessionKind, user_id: int | None = None
) -> tuple[User, datetime] | None:
    """The person of a live session and when it was last seen; None once it has ended.

    One query by primary key: this runs on every signed-in request, registrations included.
    """
    query = (
        select(User, UserSession.last_seen_at)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.id == session_id,
            UserSession.kind == kind.value,
            UserSession.revoked_at.is_(None),
            UserSession.last_seen_at > utcnow() - SESSION_MAX_AGE,
        )
    )
    if user_id is not None:
        query = query.where(User.id == user_id)
    row = session.execute(query).first()
    if row is None or row[0].is_blocked:
        return None
    return row[0], row[1]


def needs_touch(last_seen_at: datetime, now: datetime | None = None) -> bool:
    return (now or utcnow()) - last_seen_at > TOUCH_EVERY


def touch_session(session: Session, session_id: str) -> None:
    session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=utcnow()))


def end_session(session: Session, user: User, session_id: str) -> bool:
    """Ends one of `user`'s sessions (sign-out, or a revoke on the security page)."""
    result = session.execute(
        update(UserSession)
        .where(
            UserSession.id == session_id,
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)


def end_sessions(session: Session, user: User, *, keep: str | None = None) -> int:
    """Ends every session and API token of `user` but `keep` (the one in use, if any)."""
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(UserSession.id != keep)
    return session.execute(query.values(revoked_at=utcnow())).rowcount


def live_sessions(session: Session, user: User) -> list[UserSession]:
    """The person's signed-in devices and API tokens, most recently used first."""
    return list(
        session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.revoked_at.is_(None),
                UserSession.last_seen_at > utcnow() - SESSION_MAX_AGE,
            )
            .order_by(UserSession.last_seen_at.desc(), UserSession.created_at.desc())
        )
    )
