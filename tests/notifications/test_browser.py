"""A seller on a phone (360 px, Russian) sees the unread count, reads the messages, follows one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from playwright.sync_api import expect

from partner_club.accounts.models import Role
from partner_club.notifications.services import Kind, notify, register_kind
from tests.browser import sign_in
from tests.pagecheck import check_page

# A text the catalogs translate: the list shows it in the reader's language.
register_kind(Kind(name="test.browser_role", group="people", title=_l("shop owner")))


def test_seller_reads_messages_on_a_phone(phone, make, db, screenshot):
    seller = make.user(Role.SELLER, full_name="Ольга Продавцова")
    for n in range(3):
        notify(db.session, seller.id, "test.browser_role", link="/points/")
    make.session.commit()
    page = phone
    sign_in(page, seller.login)

    bell = page.locator("header .bell")
    expect(bell.locator(".bell-count")).to_have_text("3")
    assert "Сообщения: 3 непрочитанных" in bell.inner_text()
    bell.click()
    page.wait_for_url("**/notifications/")
    expect(page.locator(".notice.unread")).to_have_count(3)
    assert page.locator(".notice").first.inner_text().startswith("Не прочитано:")
    assert "владелец магазина" in page.locator(".notice").first.inner_text()
    findings = check_page(page, russian=True)
    assert not findings, findings
    screenshot(page, "1-list")

    page.locator(".notice a").first.click()
    page.wait_for_url("**/points/")
    expect(page.locator("header .bell .bell-count")).to_have_text("2")

    page.goto("/notifications/")
    page.click("text=Отметить все прочитанными")
    page.wait_for_url("**/notifications/")
    expect(page.locator(".notice.unread")).to_have_count(0)
    expect(page.locator("header .bell .bell-count")).to_have_count(0)
    screenshot(page, "2-read")


def test_an_owner_reads_messages_at_a_desk_in_english(browser, live_server, make, db, screenshot):
    owner = make.user(Role.OWNER, locale="en")
    notify(db.session, owner.id, "test.browser_role", link="/points/")
    make.session.commit()
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="en-US", base_url=live_server, bypass_csp=True
    )
    page = context.new_page()
    try:
        sign_in(page, owner.login)
        page.goto("/notifications/")
        expect(page.locator(".notice.unread")).to_have_count(1)
        assert "shop owner" in page.locator(".notice").first.inner_text()
        findings = check_page(page, russian=False)
        assert not findings, findings
        screenshot(page, "desk")
    finally:
        context.close()


WORKER_READY = """async () => {
  const registration = await navigator.serviceWorker.register('/static/js/push-sw.js');
  const worker = registration.installing || registration.waiting || registration.active;
  if (worker.state !== 'activated') {
    await new Promise((done) => worker.addEventListener('statechange', () => worker.state === 'activated' && done()));
  }
  return registration.scope;
}"""
SHOWN = """async () => {
  const registration = await navigator.serviceWorker.getRegistration('/static/js/');
  const shown = await registration.getNotifications();
  return shown.map((n) => ({title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url}));
}"""


def test_the_service_worker_shows_a_pushed_message(browser, live_server, make, db):
    """push-sw.js in Chromium's service worker: a push (delivered through DevTools) is shown."""
    context = browser.new_context(base_url=live_server)
    context.grant_permissions(["notifications"], origin=live_server)
    page = context.new_page()
    try:
        page.goto("/login")
        registrations: list[str] = []
        devtools = context.new_cdp_session(page)
        devtools.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda event: registrations.extend(r["registrationId"] for r in event["registrations"]),
        )
        devtools.send("ServiceWorker.enable")
        assert page.evaluate(WORKER_READY).endswith("/static/js/")
        page.wait_for_timeout(300)
        payload = '{"title": "Баллы начислены", "body": "+50", "url": "/notifications/7/open?via=push", "tag": "n-7"}'
        devtools.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": live_server, "registrationId": registrations[-1], "data": payload},
        )
        expect_shown = [
            {"title": "Баллы начислены", "body": "+50", "tag": "n-7", "url": "/notifications/7/open?via=push"}
        ]
        for _ in range(50):
            if page.evaluate(SHOWN) == expect_shown:
                break
            page.wait_for_timeout(100)
        assert page.evaluate(SHOWN) == expect_shown
    finally:
        context.close()
