"""The JSON API base: bearer tokens, problem responses, OpenAPI fragments.

Every API blueprint is an `ApiBlueprint` mounted under /api/v1. It carries
its own OpenAPI paths, which `/api/v1/openapi.json` merges, so the document
grows with each package without the core importing any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException
from wtforms.validators import ValidationError

from partner_club.accounts.models import Role, SessionKind, User
from partner_club.accounts.sessions import start_session
from partner_club.accounts.web_sessions import live_user
from partner_club.errors import DomainError
from partner_club.extensions import db
from partner_club.input_guard import check_json

API_PREFIX = "/api/v1"


class ApiBlueprint(Blueprint):
    def __init__(self, name: str, import_name: str, **kwargs: Any) -> None:
        super().__init__(name, import_name, url_prefix=kwargs.pop("url_prefix", API_PREFIX), **kwargs)
        self.openapi_paths: dict[str, Any] = {}
        self.openapi_schemas: dict[str, Any] = {}
        self.register_error_handler(DomainError, domain_problem)
        self.register_error_handler(HTTPException, http_problem)

    def document(self, path: str, spec: dict[str, Any]) -> None:
        """Adds OpenAPI operations for `path` (relative to /api/v1)."""
        self.openapi_paths.setdefault(API_PREFIX + path, {}).update(spec)


def problem(status: int, title: str, *, reason: str | None = None, **extra: Any):
    body = {"type": "about:blank", "title": title, "status": status}
    if reason:
        body["reason"] = reason
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    if "retry_after" in extra:
        response.headers["Retry-After"] = str(extra["retry_after"])
    return response


def domain_problem(error: DomainError):
    return problem(error.status, error.message, reason=error.code, **error.details)


def http_problem(error: HTTPException):
    return problem(
        error.code or 500,
        error.description or error.name,
        reason=getattr(error, "reason", None) or (error.name or "error").lower().replace(" ", "_"),
    )


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="api-token")


def issue_token(user: User, *, user_agent: str | None = None) -> str:
    """A bearer token naming a new API session of `user` (the caller commits): the person sees
    it among their devices and can end it, as sign-out, a block or a new password do."""
    row = start_session(db.session, user, kind=SessionKind.API, user_agent=user_agent)
    return _serializer().dumps({"uid": user.id, "sid": row.id})


def user_from_token(token: str) -> User | None:
    try:
        data = _serializer().loads(token, max_age=current_app.config["API_TOKEN_MAX_AGE"])
    except (BadSignature, SignatureExpired):
        return None
    session_id, user_id = data.get("sid"), data.get("uid")
    if not isinstance(session_id, str) or not isinstance(user_id, int):
        return None  # tokens issued before sessions existed, or not ours
    return live_user(session_id, SessionKind.API, user_id)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def api_login_required(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Bearer token, or the site's session cookie plus a CSRF header.

    The cookie path lets the site's own pages (the scanner) call the API; the
    CSRF header keeps other sites from doing the same with a visitor's cookie.
    """
    allowed = frozenset(roles) if roles else frozenset(Role)

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return problem(401, _("Sign in first."), reason="unauthorized")
            if bearer_token() is None and request.method not in ("GET", "HEAD", "OPTIONS"):
                try:
                    validate_csrf(request.headers.get("X-CSRFToken", ""))
                except ValidationError:
                    return problem(
                        400, _("The form has expired. Reload the page and try again."), reason="csrf"
                    )
            if Role(current_user.role) not in allowed:
                return problem(403, _("You do not have access to this page."), reason="forbidden")
            return view(*args, **kwargs)

        return wrapped

    return decorator


def json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    check_json(data)
    if not isinstance(data, dict):
        raise DomainError(_("The request body must be a JSON object."), code="bad_json", status=400)
    return data
