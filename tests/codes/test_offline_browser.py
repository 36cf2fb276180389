"""The field app in a real browser: codes registered with no connection wait on the phone and are
sent, exactly once, when it returns, also when an answer is lost on the way."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from codes.models import Registration, RegistrationRequest
from codes.printing import label_png
from partner_club.accounts.models import Role
from tests.browser import sign_in
from tests.codes.helpers import batch, code


def _count(db, model=Registration) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(model.id)))


def _context(browser, live_server, **options):
    context = browser.new_context(
        viewport={"width": 360, "height": 780},
        locale="ru-RU",
        is_mobile=True,
        has_touch=True,
        base_url=live_server,
        **options,
    )
    context.set_default_timeout(20000)
    return context


def _type_offline(page, codes: list[str]) -> None:
    for typed in codes:
        page.fill("[data-code-input]", typed)
        page.click("form[data-code-form] button[type=submit]")
        page.wait_for_function("() => document.querySelector('[data-code-input]').value === ''")


@pytest.fixture
def seller_with_codes(make, db, daytime):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    codes = [code(issued, n) for n in (3, 4, 5, 6)]
    make.session.commit()
    return seller, codes


def test_offline_codes_and_a_photo_wait_through_a_closed_page_and_are_sent_once(
    browser, live_server, seller_with_codes, db, tmp_path, screenshot
):
    seller, codes = seller_with_codes
    photo = tmp_path / "label.png"
    photo.write_bytes(label_png(codes[3], f"{live_server}/c/{codes[3]}"))
    context = _context(browser, live_server, service_workers="allow", bypass_csp=True)
    page = context.new_page()
    sign_in(page, seller.login)
    page.goto("/codes/register")
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => Boolean(r.active))")
    page.goto("/scan/")  # the worker now controls the pages; both are kept

    context.set_offline(True)
    page.goto("/codes/register")  # the kept page, from the worker
    _type_offline(page, [c.lower() for c in codes[:3]])
    page.locator(".outbox-item.waiting").nth(2).wait_for()
    page.goto("/catalog/")  # a page the worker does not keep: the offline page
    assert page.locator(".offline-page").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "0-offline-page")
    page.goto("/scan/")
    page.set_input_files("#scanner-photo input[type=file]", str(photo))
    page.click("#scanner-photo button[type=submit]")
    page.locator(".outbox-item.waiting").nth(3).wait_for()
    assert page.locator("[data-outbox-count]").inner_text() == "4"
    screenshot(page, "1-waiting")
    page.close()
    assert _count(db) == 0

    page = context.new_page()  # the app opened again, still with no connection
    page.goto("/codes/register")
    page.locator(".outbox-item.waiting").nth(3).wait_for()
    context.set_offline(False)  # "online": the outbox sends by itself
    page.locator(".outbox-item.accepted").nth(3).wait_for()
    assert page.locator(".outbox-item.waiting").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "2-answered")
    page.reload()  # a later start sends nothing again
    page.locator(".outbox-item.accepted").nth(3).wait_for()
    page.wait_for_timeout(500)
    # Signed out, the person's pages leave the phone: offline, only the offline page is left.
    page.locator(".menu summary").click()
    page.locator(".menu-panel form button").click()  # sign out
    page.wait_for_url("**/login**")
    page.wait_for_timeout(300)
    context.set_offline(True)
    page.goto("/codes/register")
    assert page.locator(".offline-page").count() == 1
    context.close()
    assert _count(db) == 4
    assert _count(db, RegistrationRequest) == 4


def test_an_answer_lost_in_the_middle_of_sending_is_asked_for_again(
    browser, live_server, seller_with_codes, db
):
    seller, codes = seller_with_codes
    context = _context(browser, live_server, service_workers="block", bypass_csp=True)
    page = context.new_page()
    sign_in(page, seller.login)
    page.goto("/codes/register")
    context.set_offline(True)
    _type_offline(page, codes[:3])
    page.locator(".outbox-item.waiting").nth(2).wait_for()

    sends = []

    def lose_the_first_answer(route):
        sends.append(route.request.post_data_json)
        if len(sends) == 1:
            route.fetch()  # the server registers the codes...
            route.abort("connectionreset")  # ...and the answer never reaches the phone
        else:
            route.continue_()

    page.route("**/api/v1/registrations/batch", lose_the_first_answer)
    context.set_offline(False)
    page.wait_for_timeout(1500)
    assert len(sends) == 1
    assert _count(db) == 3  # registered, though the phone does not know it
    assert page.locator(".outbox-item.waiting").count() == 3
    page.click("[data-outbox-send]")  # or the timer, or the next start
    page.locator(".outbox-item.accepted").nth(2).wait_for()
    assert len(sends) == 2
    assert [i["client_id"] for i in sends[0]["items"]] == [i["client_id"] for i in sends[1]["items"]]
    assert "+25" in page.locator(".outbox-item.accepted").first.inner_text()
    context.close()
    assert _count(db) == 3


def test_a_typed_code_whose_form_cannot_reach_the_club_is_kept_by_the_worker(
    browser, live_server, seller_with_codes, db
):
    """The phone believes it is online, but the form's post fails (a signal that comes and
    goes): the worker keeps the code in the outbox instead of the browser's error page."""
    seller, codes = seller_with_codes
    context = _context(browser, live_server, service_workers="allow", bypass_csp=True)
    page = context.new_page()
    sign_in(page, seller.login)
    page.goto("/codes/register")
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => Boolean(r.active))")
    page.reload()  # now controlled by the worker
    context.route("**/codes/register*", lambda route: route.abort("internetdisconnected"))
    page.fill("[data-code-input]", codes[0])
    page.click("form[data-code-form] button[type=submit]")
    # The kept page with the code in the list; the API answers, so the outbox sends it at once.
    page.locator(".outbox-item").first.wait_for()
    assert page.locator("[data-outbox-status]").inner_text()
    assert "/codes/register?kept=1" in page.url
    page.locator(".outbox-item.accepted").first.wait_for()
    context.unroute("**/codes/register*")
    context.close()
    assert _count(db) == 1
