"""Shared fixtures: the app, a clean database per test, people, a browser.

Point the suite at real servers with TEST_DATABASE_URL (a PostgreSQL URL;
each run gets a database of its own, dropped at the end) and TEST_REDIS_URL.
Without them it runs on a SQLite file and in-process jobs.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import g
from flask_babel import refresh as refresh_locale
from rq import SimpleWorker
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from fraud.live_history import forget_cached
from fraud.services import save_config
from partner_club import create_app
from partner_club.config import PACKAGES
from partner_club.extensions import db as _db
from partner_club.extensions import limiter
from partner_club.i18n import compile_catalog
from partner_club.jobs.services import queue
from partner_club.testing import temporary_postgres_database
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "build" / "screenshots"
RUN_ID = uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    base = os.environ.get("TEST_DATABASE_URL", "")
    if base.startswith("postgres"):
        with temporary_postgres_database(base, f"pc_test_{RUN_ID}") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'club.sqlite3'}"


@pytest.fixture(scope="session")
def redis_url() -> str | None:
    return os.environ.get("TEST_REDIS_URL") or None


def _config(database_url: str, redis_url: str | None, **overrides: Any) -> dict[str, Any]:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "PUBLIC_URL": "http://club.test",
        "REDIS_URL": redis_url,
        "RQ_QUEUE": f"pc-test-{RUN_ID}",
        "JOBS_INPROCESS": "sync",
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_KEY_PREFIX": f"pc-test-{RUN_ID}",
        "MAIL_SERVER": None,
        "CODE_KEYS": "1:" + "a1" * 32,
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def app(database_url, redis_url):
    for package in PACKAGES:
        compile_catalog(package)
    app = create_app(_config(database_url, redis_url))
    # First of all hooks: one that reads the signed-in person must not read a forgotten one.
    app.before_request_funcs.setdefault(None, []).insert(0, _forget_previous_request)
    with app.app_context():
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def _forget_previous_request() -> None:
    """Each test request starts as a fresh one would in production.

    The `db` fixture keeps an app context open for the whole test, and a
    request made inside it shares that context: without this, the signed-in
    person (Flask-Login caches it in `g`) and the chosen language would carry
    over from one client request to the next.
    """
    for name in list(vars(g)):
        delattr(g, name)
    refresh_locale()


def _wipe(app) -> None:
    with app.app_context():
        _db.session.remove()
        if app.config.get("REDIS_URL"):
            # Queued jobs name rows by id, and ids start again at 1: a job left by this test
            # would run a later test's job of the same id.
            queue(app).empty()
        with warnings.catch_warnings():  # the users/territories cycle is expected
            warnings.simplefilter("ignore")
            tables = list(reversed(_db.metadata.sorted_tables))
        if _db.engine.dialect.name == "postgresql":
            _truncate(", ".join(f'"{t.name}"' for t in tables))
            return
        with _db.engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for table in tables:
                conn.execute(table.delete())
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")


def _truncate(names: str) -> None:
    """TRUNCATE, tried again when it meets a late request of a browser test's page: the
    server's thread may still read a table (PostgreSQL then breaks the deadlock)."""
    for attempt in range(5):
        try:
            with _db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        except OperationalError:
            if attempt == 4:
                raise
            time.sleep(0.5)


@pytest.fixture
def db(app):
    """The database, empty at the start of the test and wiped after it."""
    ctx = app.app_context()
    ctx.push()
    try:
        yield _db
    finally:
        _db.session.rollback()
        ctx.pop()
        _wipe(app)
        forget_cached()  # fraud's per-process answers about shops whose ids come back
        with app.app_context():
            limiter.reset()


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def make(db):
    """Factories bound to the test session: make.user(role=...), make.outlet(), ..."""
    return factories.Factories(db.session)


@pytest.fixture
def daytime(db):
    """The suite runs at any hour: a test of several quick codes closes fraud's night window.

    At night (00:00-05:00 in the club's zone) a few codes in seconds, or five in an hour, are
    held; `tests/fraud` tests those rules at fixed times. A test about something else that
    registers codes in quick succession asks for this fixture.
    """
    night = {"night_start": "0", "night_end": "0"}
    save_config(db.session, {"detectors": {"time": {"params": night}}}, actor=None)
    db.session.commit()


@pytest.fixture
def login(client) -> Callable[..., Any]:
    def sign_in(user, password: str = factories.PASSWORD, *, to=client):
        response = to.post("/login", data={"login": user.login, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return to

    return sign_in


@pytest.fixture
def api_token(client) -> Callable[..., str]:
    def token_for(user, password: str = factories.PASSWORD) -> str:
        response = client.post("/api/v1/auth/token", json={"login": user.login, "password": password})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["token"]

    return token_for


@pytest.fixture
def work_jobs(app, redis_url) -> Callable[[], None]:
    """Runs the queued jobs: through a real rq worker when Redis is in use."""

    def drain() -> None:
        if not redis_url:
            return  # in-process "sync" jobs already ran at commit
        job_queue = queue(app)
        with app.app_context():
            SimpleWorker([job_queue], connection=job_queue.connection).work(burst=True)

    return drain


# --- a real browser -------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(app, database_url, redis_url) -> Iterator[str]:
    """The club served on a free local port, CSRF on, sharing the test database."""
    live_app = create_app(
        _config(database_url, redis_url, WTF_CSRF_ENABLED=True, PUBLIC_URL="http://127.0.0.1:0")
    )
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    live_app.config["PUBLIC_URL"] = base
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium_path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium_path).exists():
        pytest.fail(
            f"Chromium not found at {chromium_path}: run `make install` (it installs Debian's chromium)."
        )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(browser, live_server, db) -> Iterator[Any]:
    """A 360-pixel-wide phone page speaking Russian, pointed at the live server."""
    context = browser.new_context(
        viewport={"width": 360, "height": 780},
        locale="ru-RU",
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        base_url=live_server,
        # Playwright's wait_for_function evaluates its predicate with eval(), which the club's CSP
        # forbids; tests/partner_club/test_csp_browser.py checks the pages under the real policy.
        bypass_csp=True,
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def screenshot(request) -> Callable[[Any, str], Path]:
    def shoot(page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "phone" in getattr(item, "fixturenames", ()) or "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
