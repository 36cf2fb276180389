"""Site-wide pages: home, language switch, error pages."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from partner_club.api.base import API_PREFIX, problem
from partner_club.extensions import db
from partner_club.jobs.services import queue
from partner_club.nav import nav_for

bp = Blueprint("site", __name__)


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    return render_template("partner_club/home.html", items=nav_for(current_user))


@bp.get("/lang/<code>")
def switch_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    target = request.referrer or url_for("site.home")
    if urlsplit_host(target) not in ("", request.host):
        target = url_for("site.home")
    return redirect(target)


@bp.get("/healthz")
def health():
    """Liveness: the process answers. It asks nothing else, so a database outage restarts nobody."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def ready():
    """Readiness: the database and Redis (when configured) answer, with their latency in ms."""
    checks = {"database": _timed(_ping_database)}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = _timed(lambda: queue(current_app).connection.ping())
    healthy = all(check["ok"] for check in checks.values())
    return jsonify({"status": "ok" if healthy else "unavailable", "checks": checks}), 200 if healthy else 503


def _ping_database() -> None:
    db.session.execute(text("SELECT 1"))
    db.session.rollback()


def _timed(probe: Callable[[], object]) -> dict[str, object]:
    started = time.perf_counter()
    try:
        probe()
    except (SQLAlchemyError, RedisError) as error:
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def urlsplit_host(url: str) -> str:
    return urlsplit(url).netloc


ERROR_MESSAGES = {
    400: lambda: _("The request could not be understood."),
    403: lambda: _("You do not have access to this page."),
    404: lambda: _("This page does not exist."),
    405: lambda: _("This action is not allowed here."),
    413: lambda: _("The file is too large."),
    429: lambda: _("Too many attempts. Wait a minute and try again."),
    500: lambda: _("Something went wrong on our side. Try again in a minute."),
}


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    code = error.code or 500
    message = ERROR_MESSAGES.get(code, lambda: error.description)()
    if request.path.startswith(API_PREFIX):
        extra = {"retry_after": 60} if code == 429 else {}
        return problem(code, message, reason=(error.name or "error").lower().replace(" ", "_"), **extra)
    return render_template("errors.html", code=code, message=message), code


@bp.app_errorhandler(CSRFError)
def csrf_error(error: CSRFError):
    message = _("The form has expired. Reload the page and try again.")
    if request.path.startswith(API_PREFIX):
        return problem(400, message, reason="csrf")
    return render_template("errors.html", code=400, message=message), 400
