"""Signing out of a shared phone in a real browser: the pages the service worker kept for the
person go, and a kept page is never served to somebody else."""

from __future__ import annotations

import re

import pytest

from partner_club.accounts.models import Role
from tests.browser import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

KEPT_URLS = """() => caches.keys()
  .then((names) => Promise.all(names.map((n) => caches.open(n).then((c) => c.keys()))))
  .then((lists) => lists.flat().map((r) => r.url).filter((u) => u.includes('?for=')))"""


def _context(browser, live_server):
    context = browser.new_context(
        viewport={"width": 360, "height": 780},
        locale="en-GB",
        is_mobile=True,
        has_touch=True,
        base_url=live_server,
        service_workers="allow",
        bypass_csp=True,
    )
    context.set_default_timeout(20000)
    return context


def _controlled(page, path: str) -> None:
    page.goto(path)
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => Boolean(r.active))")
    page.reload()  # now controlled by the worker
    page.wait_for_function("() => Boolean(navigator.serviceWorker.controller)")


def test_signing_out_drops_the_kept_pages(browser, live_server, make, db):
    seller = make.user(Role.SELLER)
    make.session.commit()
    context = _context(browser, live_server)
    page = context.new_page()
    sign_in(page, seller.login)
    _controlled(page, "/codes/register")
    page.wait_for_function(f"() => ({KEPT_URLS})().then((urls) => urls.length > 0)")
    assert any(f"?for={seller.id}" in url for url in page.evaluate(KEPT_URLS))
    page.wait_for_load_state("networkidle")
    page.locator("header details summary").click()
    page.locator(f"form[data-signout-person='{seller.id}'] button").click()
    page.wait_for_url(re.compile(r"/login"))
    assert page.evaluate(KEPT_URLS) == []
    context.close()


def test_a_kept_page_is_not_served_to_the_next_person(browser, live_server, make, db):
    first, second = make.user(Role.SELLER, full_name="Anna First"), make.user(Role.SELLER)
    make.session.commit()
    context = _context(browser, live_server)
    page = context.new_page()
    sign_in(page, first.login)
    _controlled(page, "/codes/register")
    page.wait_for_function(
        f"() => ({KEPT_URLS})().then((urls) => urls.some((u) => u.includes('/codes/register')))"
    )
    # The first person's session ends without the sign-out form (it expired, say), and the
    # second signs in without the sign-in page passing through the worker.
    page.wait_for_load_state("networkidle")
    context.clear_cookies()
    form = context.request.get("/login").text()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    context.request.post("/login", form={"login": second.login, "password": PASSWORD, "csrf_token": token})
    page.goto("/")
    page.wait_for_function(
        f"() => ({KEPT_URLS})().then((urls) => urls.some((u) => u.includes('for={second.id}')))"
    )
    assert any(f"/codes/register?for={first.id}" in url for url in page.evaluate(KEPT_URLS))  # still there
    context.set_offline(True)
    page.goto("/codes/register")
    assert "Anna First" not in page.content()
    context.set_offline(False)
    context.close()
