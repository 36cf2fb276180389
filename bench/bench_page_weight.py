"""Bytes a seller's phone transfers for the field app's pages, first load and cached.

    .venv/bin/python bench/bench_page_weight.py
    .venv/bin/python bench/bench_page_weight.py --database-url postgresql://postgres@127.0.0.1:5432/test

The club runs on a local port (a fresh SQLite file unless --database-url names a PostgreSQL
server, where a temporary database is made and dropped) with one seller and a few registrations.
A real Chromium (Debian's, through Playwright) signs in, then for each page:

- first load: a fresh browser context (empty HTTP cache, no service worker) opens the page;
- cached: the same context opens it again after the service worker has installed and kept
  the app shell (what a phone sees on its next start).

First-load bytes are what went over the wire as Chromium's DevTools protocol counts them
(`Network.loadingFinished` encodedDataLength: headers and bodies). Cached, the page's events
miss the service worker's own fetches (the page itself, network first), so the bytes the
server sent meanwhile are counted when larger (no other traffic runs). Goals: under 150 KB on first load
and under 20 KB when cached. The sign-in itself is not counted.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from codes import issuing, services
from codes.models import BatchStatus
from partner_club import create_app
from partner_club.extensions import db
from partner_club.testing import temporary_postgres_database
from tests.factories import PASSWORD, Factories

PAGES = {
    "home": "/",
    "scanner": "/scan/",
    "register": "/codes/register",
    "balance": "/points/",
    "history": "/points/history",
}
FIRST_GOAL, CACHED_GOAL = 150 * 1024, 20 * 1024


def seed(app) -> str:
    with app.app_context():
        db.create_all()
        make = Factories(db.session)
        seller = make.user("seller")
        product = issuing.save_product(
            db.session,
            sku="PAINT-10L",
            name="Facade paint 10 l",
            kind="paint",
            package="bucket",
            volume_m3=0.01,
            points="25",
        )
        batch = issuing.issue_batch(db.session, product, 100)
        batch.status = BatchStatus.ACTIVATED.value
        db.session.flush()
        for serial in range(1, 21):
            services.store_registration(
                db.session, seller, batch, serial, channel="typed", ctx=services.RegistrationContext()
            )
        db.session.commit()
        return seller.login


class Wire:
    """Bytes the server sent (status line, headers, body): it sees the service worker's own
    fetches too, which the page's DevTools events do not."""

    def __init__(self, app) -> None:
        self.app = app
        self.bytes = 0
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        def counting_start(status, headers, exc_info=None):
            self._add(len(status) + 11 + sum(len(k) + len(v) + 4 for k, v in headers))
            return start_response(status, headers, exc_info)

        for chunk in self.app(environ, counting_start):
            self._add(len(chunk))
            yield chunk

    def _add(self, n: int) -> None:
        with self.lock:
            self.bytes += n


class Meter:
    """Counts the bytes of one page's requests through CDP."""

    def __init__(self, context, page) -> None:
        self.session = context.new_cdp_session(page)
        self.session.send("Network.enable")
        self.bytes = 0
        self.requests = 0
        self.session.on("Network.loadingFinished", self._finished)

    def _finished(self, event) -> None:
        self.bytes += int(event.get("encodedDataLength", 0))
        self.requests += 1

    def reset(self) -> None:
        self.bytes = self.requests = 0


def signed_in(browser, base: str, login: str, workers: str):
    context = browser.new_context(
        base_url=base, viewport={"width": 360, "height": 780}, is_mobile=True, service_workers=workers
    )
    page = context.new_page()
    page.goto("/login")
    page.fill("[name=login]", login)
    page.fill("[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.close()
    return context


def measure(browser, base: str, login: str, path: str, wire: Wire) -> tuple[tuple[int, int], tuple[int, int]]:
    # First load: no worker, the HTTP cache off.
    context = signed_in(browser, base, login, "block")
    page = context.new_page()
    meter = Meter(context, page)
    meter.session.send("Network.setCacheDisabled", {"cacheDisabled": True})
    page.goto(path, wait_until="networkidle")
    first = (meter.bytes, meter.requests)  # no worker: the page's events see everything
    context.close()
    # Cached: the worker installed and the shell kept, the page opened again.
    context = signed_in(browser, base, login, "allow")
    page = context.new_page()
    page.goto(path, wait_until="networkidle")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_timeout(1000)
    page.close()
    page = context.new_page()
    meter = Meter(context, page)
    sent = wire.bytes
    page.goto(path, wait_until="networkidle")
    page.wait_for_timeout(300)
    # The page's own count misses what the worker fetched (the page itself, network first).
    cached = (max(meter.bytes, wire.bytes - sent), meter.requests)
    context.close()
    return first, cached


def run(database_url: str) -> int:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "PUBLIC_URL": "http://x"}
    )
    login = seed(app)
    wire = Wire(app.wsgi_app)
    app.wsgi_app = wire
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_URL"] = base
    threading.Thread(target=server.serve_forever, daemon=True).start()
    failed = 0
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
            )
            print(f"{'page':10} {'first load':>14} {'requests':>9} {'cached':>12} {'requests':>9}")
            for name, path in PAGES.items():
                (first, n_first), (cached, n_cached) = measure(browser, base, login, path, wire)
                ok = first < FIRST_GOAL and cached < CACHED_GOAL
                failed += not ok
                print(
                    f"{name:10} {first / 1024:11.1f} KB {n_first:9d} {cached / 1024:9.1f} KB {n_cached:9d}"
                    f"  {'ok' if ok else 'OVER GOAL'}"
                )
            browser.close()
    finally:
        server.shutdown()
    print(f"goals: first load < {FIRST_GOAL // 1024} KB, cached < {CACHED_GOAL // 1024} KB")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    if args.database_url.startswith("postgres"):
        with temporary_postgres_database(args.database_url, "pc_bench_page_weight") as url:
            return run(url)
    with tempfile.TemporaryDirectory() as folder, contextlib.nullcontext():
        return run(f"sqlite:///{folder}/club.sqlite3")


if __name__ == "__main__":
    sys.exit(main())
