"""Site-wide pages: home, language switch, error pages."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    g,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
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
from partner_club.web import commits

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


# The service worker's header on the pages it fetches in the background to keep for offline use.
KEEPING_HEADER = "X-Club-Keep"


def flashes() -> list[tuple[str, str]]:
    """The messages waiting for this person; a page fetched to be kept offline leaves them for
    the page they are looking at (else a background fetch could swallow "Saved")."""
    if request.headers.get(KEEPING_HEADER):
        return []
    return get_flashed_messages(with_categories=True)


@bp.app_context_processor
def frame() -> dict:
    """What the base template needs on every page: the brand, the person's menus, the messages."""
    return {"brand": brand, "nav_groups": nav_groups, "bottom_bar": bottom_bar, "flashes": flashes}


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
    """The installable app's description, in the brand's name and colours: it opens full-screen
    on the person's home page."""
    club = brand()

    def icon(name: str, size: str, purpose: str = "any") -> dict[str, str]:
        url = url_for("static", filename=f"brand/{name}")
        return {"src": url, "sizes": size, "type": "image/png", "purpose": purpose}

    body = {
        "id": "/",
        "name": club.name,
        "short_name": club.name,
        "description": club.rules,
        "lang": str(get_locale()),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": club.primary,
        "icons": [
            icon("icon-192.png", "192x192"),
            icon("icon-512.png", "512x512"),
            icon("icon-maskable-512.png", "512x512", "maskable"),
            {"src": club.logo, "sizes": "any", "type": "image/svg+xml"},
        ],
        "shortcuts": [
            {"name": _("Scan codes"), "url": "/scan/"},
            {"name": _("Register a code"), "url": "/codes/register"},
        ],
    }
    return current_app.response_class(
        json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json"
    )


# --- the offline app: service worker, offline page, versioned static files ---------------

# Pages the service worker keeps for offline use (network first; the kept copy when offline).
SHELL_PAGES = ("/", "/codes/register", "/scan/", "/codes/registrations", "/points/", "/points/history")
OFFLINE_PAGE = "/offline"
# Static files kept with them: what those pages load, the outbox and scanner modules included.
SHELL_STATIC = (
    "css/club.css",
    "css/codes.css",
    "css/scanner.css",
    "css/ledger.css",
    "icons/sprite.svg",
    "brand/logo.svg",
    "brand/icon-192.png",
    "js/codes/codeinput.js",
    "js/codes/normalize.js",
    "js/codes/table.js",
    "js/scanner/api.js",
    "js/scanner/camera.js",
    "js/scanner/feedback.js",
    "js/scanner/live.js",
    "js/outbox/ids.js",
    "js/outbox/store.js",
    "js/outbox/send.js",
    "js/outbox/list.js",
    "js/outbox/queue.js",
    "js/outbox/start.js",
    "js/signout.js",
)
IMMUTABLE = "public, max-age=31536000, immutable"


def _static_path(filename: str) -> Path:
    return Path(current_app.static_folder or "") / filename


@functools.lru_cache(maxsize=512)
def _digest(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def file_version(filename: str) -> str | None:
    """A short hash of a static file's content: its URL changes when it does."""
    path = _static_path(filename)
    try:
        return _digest(str(path), path.stat().st_mtime_ns)
    except OSError:
        return None


@bp.app_url_defaults
def _versioned_static(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "v" not in values and "filename" in values:
        version = file_version(values["filename"])
        if version:
            values["v"] = version


@bp.after_app_request
def _static_caching(response):
    """A versioned static URL never changes: a year in every cache. Others are asked again
    (a 304 when unchanged): module imports name their files without a version."""
    if request.endpoint == "static" and response.status_code == 200:
        if request.args.get("v") and request.args["v"] == file_version(request.view_args["filename"]):
            response.headers["Cache-Control"] = IMMUTABLE
        else:
            response.headers["Cache-Control"] = "no-cache"
    return response


def shell_version() -> str:
    digest = hashlib.sha256(SW_TEMPLATE_VERSION.encode())
    for filename in SHELL_STATIC:
        digest.update(f"{filename}:{file_version(filename)}".encode())
    return digest.hexdigest()[:12]


SW_TEMPLATE_VERSION = "2"  # raise when the worker's own code changes


@bp.get("/sw.js")
def service_worker():
    """The service worker, at the root so its scope is the whole club. Its cache is named by a
    hash of the shell's files: a changed file makes a new worker and a fresh cache."""
    body = render_template(
        "partner_club/sw.js.html",  # .html: shipped with the other templates
        version=shell_version(),
        pages=list(SHELL_PAGES),
        offline=OFFLINE_PAGE,
        keeping_header=KEEPING_HEADER,
        static=[url_for("static", filename=f, v=None) for f in SHELL_STATIC],
        push_handlers=url_for("static", filename="js/push-sw.js"),
    )
    response = current_app.response_class(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/offline")
def offline():
    """What the service worker shows for a page it has not kept, with no connection."""
    return render_template("partner_club/offline.html")


@bp.get("/lang/<code>")
@commits
def switch_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated and current_user.locale != code:
            # The account keeps it too: mail built by a command or a job has no session to ask.
            current_user.locale = code
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
