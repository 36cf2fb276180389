"""The screenshot gallery: every page of every role, at 360 px and 1280 px, in Russian and English.

    make screenshots            # or: .venv/bin/python tools/screenshots.py [--roles admin,seller] [--shops 20]

Builds a small demo world in a fresh SQLite file, serves it on a free local port,
signs in as each demo login, and visits the home page, every entry of that
person's menu and the pages they lead to one step down (the first row of a
list). Each picture lands in build/screenshots/gallery/ as
ROLE-LANG-WIDTH-PAGE.png; every page is also checked (tests/pagecheck.py:
horizontal scroll, tap targets under 44 px, English words on Russian pages,
axe-core's serious and critical findings) and the findings are written to
build/screenshots/gallery/findings.txt. The exit status is 1 when there are any.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from partner_club import create_app  # noqa: E402
from partner_club.demo.seed import seed_demo  # noqa: E402
from partner_club.extensions import db  # noqa: E402
from tests.pagecheck import check_page  # noqa: E402

OUT = ROOT / "build" / "screenshots" / "gallery"
WIDTHS = (360, 1280)
LANGUAGES = ("ru", "en")
# Pages a person reaches from a list: the first link matching one of these, per menu page.
DETAIL_LINKS = re.compile(
    r"^/(admin/people/\d+|admin/shops/\d+|codes/batches/\d+|codes/products/\d+|fraud/cases/\d+"
    r"|prizes/\d+|prizes/orders/\d+|prizes/admin/orders/\d+|reports/map/[A-Z-]+)$"
)
# Pages that only stream a file or change something on GET: never visited.
SKIP = re.compile(r"\.(csv|pdf|zip|png|json)$|/logout")


def serve(shops: int) -> tuple[str, dict[str, tuple[str, str]]]:
    folder = Path(tempfile.mkdtemp(prefix="club-screens-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'club.sqlite3'}",
            "JOBS_INPROCESS": "sync",
            "REDIS_URL": None,
            "RATELIMIT_ENABLED": False,
            "LOGIN_RATE_LIMIT": "10000 per minute",
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "partner_club" / "migrations"))
        world = seed_demo(db.session, app.extensions["partner_club.demo_seeders"], shops=shops)
        db.session.commit()
        logins = dict(world.logins)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_URL"] = base
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return base, logins


def slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


def pages_of(page, base: str) -> list[str]:
    """The home page, the menu's pages and one detail page under each."""
    page.goto(base + "/")
    menu = page.eval_on_selector_all(".menu-panel a[href]", "els => els.map(e => e.getAttribute('href'))")
    paths = ["/"] + [p for p in dict.fromkeys(menu) if p != "/" and not SKIP.search(p)]
    details = []
    for path in paths[1:]:
        page.goto(base + path)
        links = page.eval_on_selector_all("main a[href]", "els => els.map(e => e.getAttribute('href'))")
        found = next((urlsplit(x).path for x in links if DETAIL_LINKS.match(urlsplit(x).path)), None)
        if found and found not in paths and found not in details:
            details.append(found)
    return paths + details


def sign_in(page, base: str, login: str, password: str) -> None:
    page.context.clear_cookies()
    page.goto(base + "/login")
    page.fill("[name=login]", login)
    page.fill("[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--roles", help="comma-separated demo roles (default: all)")
    parser.add_argument("--shops", type=int, default=20)
    parser.add_argument("--no-checks", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    base, logins = serve(args.shops)
    roles = args.roles.split(",") if args.roles else list(logins)
    findings: list[str] = []
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        for width in WIDTHS:
            for language in LANGUAGES:
                context = browser.new_context(
                    viewport={"width": width, "height": 800 if width > 400 else 780},
                    is_mobile=width < 400,
                    has_touch=width < 400,
                    locale=f"{language}-{language.upper()}",
                    bypass_csp=True,  # axe-core goes in as an inline script
                )
                page = context.new_page()
                page.set_default_timeout(20000)
                page.goto(f"{base}/lang/{language}")
                shoot(page, base, f"public-{language}-{width}", ["/login"], findings, args, language)
                for role in roles:
                    login, password = logins[role]
                    sign_in(page, base, login, password)
                    page.goto(f"{base}/lang/{language}")
                    shoot(
                        page,
                        base,
                        f"{role}-{language}-{width}",
                        pages_of(page, base),
                        findings,
                        args,
                        language,
                    )
                context.close()
        browser.close()
    (OUT / "findings.txt").write_text("\n".join(findings) + "\n")
    print(f"{len(list(OUT.glob('*.png')))} pictures in {OUT}; {len(findings)} findings (findings.txt)")
    return 1 if findings else 0


def shoot(page, base, prefix, paths, findings, args, language) -> None:
    for path in paths:
        response = page.goto(base + path)
        page.wait_for_load_state("networkidle")
        name = f"{prefix}-{slug(path)}"
        page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
        if response is not None and response.status >= 400:
            findings.append(f"{name}: HTTP {response.status}")
        if not args.no_checks:
            for kind, items in check_page(page, russian=language == "ru").items():
                findings.append(f"{name}: {kind}: {'; '.join(items)}")
        print(name, flush=True)


if __name__ == "__main__":
    sys.exit(main())
