"""The pages work under the club's real Content-Security-Policy (no bypass), with no violation."""

from __future__ import annotations

import pytest

from partner_club.accounts.models import Role
from tests.browser import sign_in


@pytest.fixture
def strict_page(browser, live_server, db):
    context = browser.new_context(
        viewport={"width": 1000, "height": 800}, locale="ru-RU", base_url=live_server
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page, problems
    context.close()


def test_the_map_draws_under_the_policy(strict_page, make, db):
    page, problems = strict_page
    make.region("RU-TA", name_ru="Республика Татарстан", name_en="Tatarstan")
    admin = make.user(Role.ADMIN)
    db.session.commit()
    sign_in(page, admin.login)
    page.goto("/reports/map")
    page.wait_for_selector(".leaflet-container")  # the nonce'd inline script ran
    page.wait_for_load_state("networkidle")
    assert problems == []


def test_the_scanner_starts_under_the_policy(strict_page, make, db):
    page, problems = strict_page
    seller = make.user(Role.SELLER)
    db.session.commit()
    sign_in(page, seller.login)
    page.goto("/scan/")
    page.wait_for_load_state("networkidle")
    assert page.locator("#scanner-status").inner_text().strip() != ""  # scanner.js ran
    assert problems == []


def test_the_other_pages_raise_no_violation(strict_page, make, db):
    page, problems = strict_page
    rep, _, _ = make.rep_with_outlet()
    db.session.commit()
    sign_in(page, rep.login)
    for path in ("/", "/invitations", "/reports/analytics", "/prizes/", "/fraud/", "/codes/register"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    assert problems == []
