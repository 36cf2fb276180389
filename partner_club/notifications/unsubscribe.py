"""The signed link that unsubscribes a person from mailings, and the headers that carry it.

It lives with the channels (the e-mail channel puts it in every mailing) and
needs nothing but the app's secret: no sign-in, nothing to guess. The pages
that act on it are the profile's (`accounts.profile_views`).
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="unsubscribe-mailings")


def unsubscribe_token(user_id: int) -> str:
    return _serializer().dumps({"u": user_id})


def user_id_from_token(token: str) -> int | None:
    if not token or len(token) > 200:
        return None
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    user_id = data.get("u") if isinstance(data, dict) else None
    return user_id if isinstance(user_id, int) else None


def unsubscribe_url(user_id: int) -> str:
    """The absolute link a mailing carries (no request needed: jobs build mailings)."""
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/unsubscribe/{unsubscribe_token(user_id)}"


def list_unsubscribe_headers(user_id: int) -> dict[str, str]:
    """`List-Unsubscribe` (RFC 2369) and one-click `List-Unsubscribe-Post` (RFC 8058) for a
    mailing's e-mail to this person."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(user_id)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
