"""A seller checks their points on a phone (360 px, Russian); an admin corrects them."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from partner_club.accounts.models import Role
from partner_club.database import utcnow
from partner_club.ledger import services as ledger
from partner_club.ledger.policy import ExpiryPolicy
from tests.browser import sign_in


def test_seller_sees_balance_expiry_and_history_on_a_phone(phone, make, db, screenshot):
    seller = make.user(Role.SELLER, full_name="Ольга Продавцова")
    ledger.set_expiry_policy(db.session, ExpiryPolicy("months", 12), actor=None)
    account = ledger.account_for_user(db.session, seller)
    ledger.accrue(
        db.session, account, 120, cause_type="registration", cause_id=41, at=utcnow() - timedelta(days=350)
    )
    for n in range(24):
        ledger.accrue(db.session, account, 5, cause_type="registration", cause_id=100 + n)
    ledger.hold(db.session, account, 30, cause_type="registration", cause_id=200)
    ledger.spend(db.session, account, 50, cause_type="order", cause_id=7)
    make.session.commit()
    page = phone
    sign_in(page, seller.login)

    page.locator("summary", has_text="Меню").click()
    page.click("text=Мои баллы")
    page.wait_for_url("**/points/")
    assert page.locator("[data-figure=active]").first.inner_text() == "190"
    assert page.locator("[data-figure=pending]").first.inner_text() == "30"
    assert "70 баллов сгорят в ближайшие 30 дней" in page.locator(".ledger-expiring").inner_text()
    assert "сгорят" in page.locator(".ledger-next").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "1-balance")

    page.click("text=Вся история")
    page.wait_for_url("**/points/history")
    lines = page.locator(".ledger-line")
    assert lines.count() == 20
    assert "Баллы потрачены" in lines.nth(0).inner_text() and "заказ приза #7" in lines.nth(0).inner_text()
    assert "Баллы ждут проверки" in lines.nth(1).inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "2-history")
    page.click("a[rel=next]")
    page.wait_for_url("**/points/history?page=2")
    assert page.locator(".ledger-line").count() == 7
    assert "регистрация кода #41" in page.content()


def test_admin_adjusts_points_on_a_phone(phone, make, db, screenshot):
    admin = make.user(Role.ADMIN)
    seller = make.user(Role.SELLER, full_name="Пётр Кладовщиков")
    make.session.commit()
    page = phone
    sign_in(page, admin.login)
    page.goto("/points/admin/accounts")
    page.fill("[name=q]", "Кладовщиков")
    page.click("button.primary")
    page.wait_for_url("**/points/admin/accounts?*q=*")  # the search's page, not the full list
    page.click("text=Пётр Кладовщиков")
    page.fill("[name=amount]", "25")
    page.click("text=Сохранить корректировку")  # no reason: refused, nothing saved
    expect(page.locator(".error").first).to_be_visible()  # the form's answer, a page of its own
    page.fill("[name=reason]", "Бонус за выставку")
    page.click("text=Сохранить корректировку")
    page.wait_for_url(f"**/points/admin/person/{seller.id}")
    assert page.locator("[data-figure=active]").first.inner_text() == "25"
    assert "Бонус за выставку" in page.locator(".ledger-line").first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "adjusted")


def test_liability_and_settings_fit_a_phone(phone, make, db, screenshot):
    admin = make.user(Role.ADMIN)
    region = make.region(name_ru="Республика Татарстан")
    account = ledger.account_for_user(db.session, make.user(Role.SELLER, outlet=make.outlet(region=region)))
    ledger.accrue(
        db.session, account, 12345, cause_type="registration", cause_id=1, at=utcnow() - timedelta(days=200)
    )
    make.session.commit()
    page = phone
    sign_in(page, admin.login)
    page.goto("/points/liability")
    assert page.locator("[data-figure=active]").inner_text() == "12345"
    assert "Республика Татарстан" in page.locator(".ledger-regions").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "liability")
    page.goto("/points/admin/settings")
    page.check("input[name=mode][value=quarter_end]")
    page.fill("#expiry [name=months]", "3")
    page.locator("#expiry button").click()
    expect(page.locator(".flash")).to_contain_text("Правило сгорания сохранено")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "settings")
