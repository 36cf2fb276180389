"""The browser's side of server-side sessions: the cookie carries the session's id.

Flask's session cookie (signed, HttpOnly, SameSite=Lax, Secure under https)
holds Flask-Login's user id and, under `SESSION_KEY`, the id of a
`user_sessions` row; the user loader reads the person and that row in one
query and refuses an ended session. The cookie is permanent (30 days), which
is the club's "remember me": Flask-Login's own remember cookie is not used,
because it would carry the user id alone and could outlive a sign-out.
"""

from __future__ import annotations

from flask import current_app, request
from flask import session as cookie
from flask_login import login_user, logout_user

from partner_club.accounts import sessions
from partner_club.accounts.models import SessionKind, User
from partner_club.accounts.signin_limits import Store, store_for
from partner_club.extensions import db, limiter

SESSION_KEY = "sid"
PUSH_ENDPOINT_KEY = "push_endpoint"  # this browser's Web Push subscription, ended at sign-out


def open_browser_session(user: User) -> None:
    """Starts a server-side session for this browser (the caller commits)."""
    row = sessions.start_session(db.session, user, kind=SessionKind.WEB, user_agent=request.user_agent.string)
    login_user(user)
    cookie[SESSION_KEY] = row.id
    cookie.permanent = True


def close_browser_session(user: User) -> None:
    """Ends this browser's session on the server (the caller commits) and forgets the cookie."""
    session_id = cookie.pop(SESSION_KEY, None)
    if session_id:
        sessions.end_session(db.session, user, session_id)
    logout_user()


def current_session_id() -> str | None:
    return cookie.get(SESSION_KEY)


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the person only while their session lives."""
    session_id = cookie.get(SESSION_KEY)
    if not session_id or not str(user_id).isdigit():
        return None
    return live_user(session_id, SessionKind.WEB, int(user_id))


def live_user(session_id: str, kind: SessionKind, user_id: int | None) -> User | None:
    found = sessions.user_of_session(db.session, session_id, kind=kind, user_id=user_id)
    if found is None:
        return None
    user, last_seen = found
    if sessions.needs_touch(last_seen):
        # Before the view has written anything: this commit carries the touch alone.
        sessions.touch_session(db.session, session_id)
        db.session.commit()
        if kind is SessionKind.WEB:
            cookie.modified = True  # the cookie's 30 days roll on with the server's session
    return user


def signin_store() -> Store:
    return store_for(current_app.config, limiter.storage)
