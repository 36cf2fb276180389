"""Staff build a segment, see its size and both languages, send, and watch the counts."""

from __future__ import annotations

import pytest

from partner_club.accounts.models import Role
from tests.browser import sign_in
from tests.pagecheck import check_page


@pytest.mark.parametrize("width", [360, 1280])
def test_staff_send_a_mailing_to_a_segment(browser, live_server, db, make, screenshot, work_jobs, width):
    region = make.region()
    shop = make.outlet(region=region)
    make.user(Role.OWNER, outlet=shop)
    make.user(Role.SELLER, outlet=shop, locale="en")
    make.user(Role.SELLER, outlet=make.outlet(region=make.region()))
    admin = make.user(Role.ADMIN)
    db.session.commit()
    context = browser.new_context(
        viewport={"width": width, "height": 800}, locale="ru-RU", base_url=live_server, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        sign_in(page, admin.login)
        page.goto("/mailings/new")
        page.wait_for_function("document.getElementById('audience').textContent.includes('3')")
        page.select_option("select[name=regions]", str(region.id))
        page.wait_for_function("/ 2 .* 1 /.test(document.getElementById('audience').textContent)")
        page.fill("[name=title_ru]", "Новая акция")
        page.fill("[name=body_ru]", "Двойные баллы до конца месяца")
        page.fill("[name=title_en]", "A new campaign")
        page.fill("[name=body_en]", "Double points until the end of the month")
        page.check("input[name=channels][value=sms]")
        page.wait_for_function("document.getElementById('sms-cost').textContent.length > 0")
        assert "1" in page.inner_text("#parts-ru") and "1" in page.inner_text("#parts-en")
        if width == 360:
            screenshot(page, "form")
            assert not check_page(page, russian=False).get("horizontal scroll")
        page.click("button[name=action][value=send]")
        page.wait_for_url("**/mailings/*")
        assert "Двойные баллы" in page.content() and "Double points" in page.content()
        assert "2 частей всего" in page.content()  # one part each, two people
        work_jobs()  # with Redis, a worker sends it (without, it was sent at the commit)
        page.wait_for_function("document.querySelector('[data-count=handled]').textContent.trim() === '2'")
        assert page.inner_text("[data-count=sent]").strip() == "2"
        if width == 360:
            screenshot(page, "sent")
            assert not check_page(page, russian=False).get("horizontal scroll")
    finally:
        context.close()
