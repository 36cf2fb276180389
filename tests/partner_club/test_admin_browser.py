"""Phone journeys (360 px, Russian): an admin blocks a person; an owner approves a seller."""

from __future__ import annotations

from playwright.sync_api import expect

from partner_club.accounts.models import Role
from tests.browser import forget_person, sign_in


def test_admin_blocks_a_person_who_then_sees_why(phone, make, db, screenshot):
    admin = make.user(Role.ADMIN)
    seller = make.user(Role.SELLER, full_name="Пётр Сидоров")
    make.user(Role.SELLER, full_name="Иван Иванов")
    make.session.commit()
    page = phone
    sign_in(page, admin.login)
    page.goto("/admin/people")
    page.fill("[name=q]", "сидор")
    page.select_option("[name=role]", "seller")
    page.click("form.filters button")
    rows = page.locator("table.admin tbody tr")
    expect(rows).to_have_count(1)  # waits for the filtered page: the unfiltered one lists everyone
    assert "Пётр Сидоров" in rows.inner_text()
    screenshot(page, "1-people")
    page.click("table.admin tbody a")
    page.fill("[name=reason]", "Коды с чужого склада")
    screenshot(page, "2-person")
    page.click("button.danger")
    # A second step says what blocking does before anything changes.
    assert "Пётр Сидоров" in page.locator(".confirm h1").inner_text()
    screenshot(page, "2b-confirm")
    page.click("[data-confirm]")
    assert "Коды с чужого склада" in page.locator("section .flash-error").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.goto("/admin/audit")
    # The audit log reads as a sentence, not as the action's code.
    assert (
        "заблокировал: Пётр Сидоров. Причина: Коды с чужого склада" in page.locator("ol.audit").inner_text()
    )
    screenshot(page, "3-audit")

    sign_in(page, seller.login, expect_in=False)
    refusal = page.locator(".blocked").inner_text()
    assert "Коды с чужого склада" in refusal and "торговому представителю" in refusal
    screenshot(page, "4-blocked-login")


def test_owner_approves_a_seller_on_a_phone(phone, make, db, screenshot):
    _rep, _territory, outlet = make.rep_with_outlet()
    owner = make.user(Role.OWNER, outlet=outlet)
    make.session.commit()
    page = phone
    sign_in(page, owner.login)
    page.goto("/shop/sellers")
    page.click("form[action$=\"/shop/sellers/code\"] button")
    link = page.locator(".seller-link a").inner_text()

    forget_person(page)
    page.goto(link)
    page.fill("[name=full_name]", "Мария Продавцова")
    page.fill("[name=login]", "maria@example.com")
    page.fill("[name=password]", "пароль-продавца")
    page.fill("[name=password_again]", "пароль-продавца")
    page.click("button[type=submit]")
    assert "одобрит" in page.locator(".pending-note").inner_text()
    screenshot(page, "1-seller-pending")

    sign_in(page, owner.login)
    page.goto("/shop/sellers")
    assert "ждёт подтверждения" in page.locator(".person").inner_text()
    screenshot(page, "2-owner-sellers")
    page.click(".person button.primary")
    expect(page.locator(".flash-success")).to_contain_text("теперь может регистрировать коды")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
