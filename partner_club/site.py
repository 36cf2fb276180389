"""Site-wide pages: home, language switch, error pages."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from partner_club.accounts.models import role_label
from partner_club.api.base import API_PREFIX, problem
from partner_club.brand import Brand, brand_for
from partner_club.extensions import db
from partner_club.home import CORE_CARDS, cards_for, registered_cards
from partner_club.jobs.services import queue
from partner_club.nav import bottom_bar, nav_for, nav_groups

bp = Blueprint("site", __name__)


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    cards = cards_for(db.session, current_user, [*CORE_CARDS, *registered_cards()])
    return render_template("partner_club/home.html", items=nav_for(current_user), cards=cards)


def brand() -> Brand:
    if "brand" not in g:
        g.brand = brand_for(db.session, current_app.config, str(get_locale()))
    return g.brand


@bp.app_context_processor
def frame() -> dict:
    """What the base template needs on every page: the brand and the person's menus."""
    return {"brand": brand, "nav_groups": nav_groups, "bottom_bar": bottom_bar}


YEAR_WORD = re.compile(r"[\s\u00a0\u202f]г\.")


# Russian CLDR patterns end long dates with " г." ("5 декабря 2026 г."): the club writes
# dates without it, in every template that uses these filters.
def _without_year_word(text: str) -> str:
    return YEAR_WORD.sub("", text)


@bp.app_template_filter("role_label")
def role_label_filter(role: str) -> str:
    return role_label(role)


@bp.app_template_filter("number")
def number_filter(value) -> str:
    """A count as people read it: "12 000" in Russian, "12,000" in English."""
    return format_decimal(value or 0)


@bp.app_template_filter("dateformat")
def date_filter(value, format: str = "medium") -> str:
    return _without_year_word(format_date(value, format))


@bp.app_template_filter("datetimeformat")
def datetime_filter(value, format: str = "medium") -> str:
    return _without_year_word(format_datetime(value, format))


@bp.get("/manifest.webmanifest")
def manifest():
    """The installable app's description, in the brand's name and colours."""
    club = brand()
    body = {
        "name": club.name,
        "short_name": club.name,
        "description": club.rules,
        "start_url": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": club.primary,
        "icons": [{"src": club.logo, "sizes": "any", "type": "image/svg+xml"}],
    }
    return current_app.response_class(
        json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json"
    )


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
