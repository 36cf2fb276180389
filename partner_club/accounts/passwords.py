"""Forgotten passwords: a one-time link by e-mail, valid for an hour, used once.

The request never learns whether the login exists: `request_reset` answers
None for an unknown login, a blocked person, a login with no e-mail (a phone
login: the SMS channel does not exist yet) and past the hourly limit alike,
and the view shows the same page in every case. The link's token is made
and mailed by a job (`accounts/jobs.py`), so the request's answer does not
wait for the mail server either; only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from partner_club.accounts.models import PasswordReset, User
from partner_club.accounts.services import check_password_strength, find_by_login
from partner_club.accounts.sessions import end_sessions
from partner_club.audit.services import record
from partner_club.database import utcnow
from partner_club.errors import Invalid

RESET_VALID_FOR = timedelta(hours=1)
RESETS_PER_HOUR = 3  # links one account may be sent in an hour


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mail_address(user: User) -> str | None:
    """Where a reset link goes: the e-mail on file, or the login when it is one."""
    return user.email or (user.login if "@" in user.login else None)


def request_reset(session: Session, raw_login: str) -> PasswordReset | None:
    """A pending reset for the person behind `raw_login`, or None (and the caller says the
    same either way)."""
    user = find_by_login(session, raw_login)
    if user is None or user.is_blocked or not mail_address(user):
        return None
    now = utcnow()
    recent = session.scalar(
        select(func.count(PasswordReset.id)).where(
            PasswordReset.user_id == user.id, PasswordReset.created_at > now - timedelta(hours=1)
        )
    )
    if recent >= RESETS_PER_HOUR:
        return None
    reset = PasswordReset(user_id=user.id, created_at=now, expires_at=now + RESET_VALID_FOR)
    session.add(reset)
    session.flush()
    return reset


def issue_token(session: Session, reset_id: int) -> tuple[User, str] | None:
    """The person and a fresh token for a pending reset (the mailing job); None if it is no
    longer pending."""
    reset = session.get(PasswordReset, reset_id)
    if reset is None or reset.used_at is not None or reset.token_hash or reset.expires_at <= utcnow():
        return None
    token = secrets.token_urlsafe(32)
    reset.token_hash = _digest(token)
    session.flush()
    return session.get(User, reset.user_id), token


def valid_reset(session: Session, token: str) -> PasswordReset | None:
    if not token or len(token) > 100:
        return None
    return session.scalar(
        select(PasswordReset).where(
            PasswordReset.token_hash == _digest(token),
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > utcnow(),
        )
    )


def reset_password(session: Session, token: str, new_password: str) -> User:
    """Sets the new password and uses the link up; every session and API token of the person
    ends (someone else may have known the old password)."""
    reset = valid_reset(session, token)
    if reset is None:
        raise Invalid(
            _("This link has expired or has already been used. Ask for a new one."), code="reset_invalid"
        )
    check_password_strength(new_password)
    user = session.get(User, reset.user_id)
    now = utcnow()
    # Uses this link and any other pending one of the person, once: a parallel use loses here.
    used = session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if not used:
        raise Invalid(_("This link has already been used."), code="reset_invalid")
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    user.set_password(new_password)
    user.token_version += 1
    end_sessions(session, user)
    session.flush()
    record(session, user, "user.password_reset", user)
    return user
