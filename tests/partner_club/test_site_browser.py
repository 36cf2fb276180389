"""The surface in a real browser: home pages by role, the registration's answer, the checks
every page passes (no horizontal scroll, tap targets of 44 px, no English on Russian pages,
no serious axe-core finding) at 360 px and at 1280 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from partner_club.accounts.models import Role
from tests.browser import sign_in
from tests.codes.helpers import batch, code, product
from tests.pagecheck import check_page


@pytest.fixture
def shop_world(make, db):
    rep, territory, outlet = make.rep_with_outlet()
    outlet.name, territory.name, rep.full_name = (
        "Магазин «Ромашка»",
        "Север",
        "Иван Представителев",
    )  # data in Russian: the checks look for English words
    owner = make.user(Role.OWNER, outlet=outlet, full_name="Ольга Хозяйкина")
    seller = make.user(Role.SELLER, outlet=outlet, full_name="Сергей Продавцов")
    make.user(Role.SELLER, outlet=outlet, full_name="Новый Продавец", status="pending")
    admin = make.user(Role.ADMIN, full_name="Анна Админова")
    issued = batch(db.session, product(db.session, name="Краска фасадная 10 л"), count=20)
    make.session.commit()
    return {"rep": rep, "owner": owner, "seller": seller, "admin": admin, "batch": issued}


def _checked(page, *, russian: bool = True) -> None:
    findings = check_page(page, russian=russian)
    assert not findings, f"{page.url}: {findings}"


def test_seller_registers_a_code_and_the_answer_says_what_happened(phone, shop_world, screenshot):
    page = phone
    seller, issued = shop_world["seller"], shop_world["batch"]
    sign_in(page, seller.login)
    expect(page.locator(".bottombar a")).to_have_count(4)
    page.click(".hero")
    first = code(issued, 1)
    page.fill("[name=code]", first)
    page.click("button[type=submit]")
    answer = page.locator("[data-answer]")
    text = answer.inner_text()
    assert f"{first[:4]}-{first[4:8]}-{first[8:]}" in text
    assert "Краска фасадная 10 л" in text and "25 баллов" in text
    assert "Ваш баланс: 25 можно потратить" in text
    screenshot(page, "1-answer")
    _checked(page)

    # The second code's answer replaces the first instead of standing beside it.
    page.fill("[name=code]", code(issued, 2))
    page.click("button[type=submit]")
    expect(page.locator("[data-answer]")).to_have_count(1)
    assert "Ваш баланс: 50" in page.locator("[data-answer]").inner_text()

    # The same code again: told when, and that nothing was added.
    page.fill("[name=code]", first)
    page.click("button[type=submit]")
    again = page.locator("[data-answer]").inner_text()
    assert "Вы уже зарегистрировали этот код" in again and "новых баллов нет" in again
    assert "+25" not in again
    screenshot(page, "2-again")

    page.goto("/codes/registrations")
    listed = page.locator(".codes-list").inner_text()
    assert f"{first[:4]}-{first[4:8]}-{first[8:]}" in listed and "введён на сайте" in listed
    _checked(page)

    page.goto("/")
    home = page.locator("main").inner_text()
    assert "50" in home and "Мои баллы" in home
    screenshot(page, "3-home")
    _checked(page)


@pytest.mark.parametrize("width", [360, 1280])
def test_every_role_has_a_home_that_passes_the_page_checks(
    browser, live_server, shop_world, width, screenshot
):
    context = browser.new_context(
        viewport={"width": width, "height": 800},
        locale="ru-RU",
        base_url=live_server,
        is_mobile=width < 400,
        bypass_csp=True,  # axe-core is injected inline; test_csp_browser.py checks the policy itself
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        for role in ("owner", "rep", "admin"):
            sign_in(page, shop_world[role].login)
            main = page.locator("main").inner_text()
            if role == "owner":
                assert "последние 7 дней" in main and "ждёт одобрения" in main
            if role == "rep":
                assert "Моя территория" in main and "ждёт одобрения" in main
            if role == "admin":
                assert "Заказы призов ждут подтверждения" in main
                if width >= 1000:
                    expect(page.locator(".sidemenu")).to_be_visible()
                    assert page.locator(".sidemenu .nav-group").count() >= 5
            screenshot(page, f"{role}-{width}")
            _checked(page)
    finally:
        context.close()


def test_admin_pages_in_english_and_russian_pass_the_checks(browser, live_server, shop_world):
    context = browser.new_context(
        viewport={"width": 360, "height": 780}, base_url=live_server, is_mobile=True, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        sign_in(page, shop_world["admin"].login)
        for language in ("ru", "en"):
            page.goto(f"/lang/{language}")
            for path in (
                "/admin/people",
                "/admin/audit",
                "/codes/batches",
                f"/codes/batches/{shop_world['batch'].id}",
            ):
                page.goto(path)
                _checked(page, russian=language == "ru")
    finally:
        context.close()


def test_voiding_a_range_asks_first_and_says_how_many_codes(phone, shop_world, screenshot):
    page = phone
    sign_in(page, shop_world["admin"].login)
    page.goto(f"/codes/batches/{shop_world['batch'].id}")
    page.fill("[name=from_serial]", "1")
    page.fill("[name=to_serial]", "12")
    page.fill("[name=reason]", "Порванный рулон")
    page.click("text=Аннулировать эти номера…")
    consequence = page.locator(".confirm").inner_text()
    assert "12 кодов перестанут приносить баллы" in consequence
    screenshot(page, "confirm")
    _checked(page)
    page.click("[data-confirm]")
    assert "1–12" in page.locator("main").inner_text()
    page.goto("/admin/audit")
    assert "аннулировал номера с 1 по 12 партии" in page.locator("ol.audit").inner_text()
    assert "12 кодов" in page.locator("ol.audit").inner_text()
