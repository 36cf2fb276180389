"""A seller sends feedback with a screenshot from a phone; a rep answers in the queue; the
answer arrives in the seller's messages (the badge counts it) and opens the request."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from partner_club.accounts.models import Role
from tests.browser import sign_in
from tests.pagecheck import check_page
from tests.support.helpers import png


def test_feedback_with_a_screenshot_is_answered_and_the_answer_arrives(
    phone, browser, live_server, make, screenshot, tmp_path
):
    rep, _, shop = make.rep_with_outlet()
    seller = make.user(Role.SELLER, outlet=shop, full_name="Ольга Продавцова")
    make.session.commit()
    shot = tmp_path / "screen.png"
    shot.write_bytes(png(360, 640, "navy"))

    page = phone
    sign_in(page, seller.login)
    page.goto("/prizes/")
    page.locator("summary", has_text="Меню").click()
    page.click("a.help-link")
    page.wait_for_url(lambda url: "/support/new?from=" in url)
    expect(page.locator(".support-page code")).to_have_text("/prizes/")
    page.locator("label.support-topic", has_text="Отзыв").click()
    page.fill("[name=text]", "Не вижу свои призы после обновления")
    page.set_input_files("[name=photo]", str(shot))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    findings = check_page(page, russian=True)
    assert not any(findings.values()), findings
    screenshot(page, "1-form")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/support/\d+$"))
    expect(page.locator(".support-text")).to_have_text("Не вижу свои призы после обновления")
    expect(page.locator("img.support-photo")).to_be_visible()
    screenshot(page, "2-sent")

    desk = browser.new_context(
        viewport={"width": 360, "height": 780}, locale="ru-RU", base_url=live_server, bypass_csp=True
    )
    staff = desk.new_page()
    staff.set_default_timeout(15000)
    sign_in(staff, rep.login)
    staff.goto("/support/queue")
    item = staff.locator(".support-item", has_text="Не вижу свои призы")
    expect(item).to_contain_text("ответа ещё нет")
    assert staff.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(staff, "3-queue")
    item.locator("a").click()
    expect(staff.locator(".support-staff")).to_contain_text("/prizes/")
    staff.fill("[name=text]", "Призы вернулись: обновите страницу, пожалуйста.")
    staff.click("form.support-form button[type=submit]")
    expect(staff.locator(".support-status")).to_have_text("Ждёт ответа участника")
    screenshot(staff, "4-answered")
    desk.close()

    page.goto("/")
    expect(page.locator(".bell-count")).to_have_text("1")
    page.click("a.bell")
    notice = page.locator(".notice.unread", has_text="Ответ на ваше обращение")
    expect(notice).to_contain_text("Призы вернулись")
    screenshot(page, "5-messages")
    notice.locator("a").click()
    page.wait_for_url(re.compile(r"/support/\d+$"))
    expect(page.locator(".support-message.from-staff")).to_contain_text("Призы вернулись")
    expect(page.locator(".bell-count")).to_have_count(0)
    screenshot(page, "6-answer")
