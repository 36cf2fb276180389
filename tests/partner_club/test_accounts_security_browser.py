"""A real phone (360 px, Russian): sign in, sign another device out, change the password."""

from __future__ import annotations

from partner_club.accounts.models import Role
from tests.browser import sign_in
from tests.factories import PASSWORD


def test_phone_signs_a_device_out_and_changes_the_password(phone, browser, live_server, make, db, screenshot):
    seller = make.user(Role.SELLER, login="maria@example.com")
    make.session.commit()
    laptop = browser.new_context(base_url=live_server, locale="ru-RU").new_page()
    try:
        sign_in(laptop, seller.login)
        sign_in(phone, seller.login)

        phone.goto("/account/security")
        assert phone.locator("h1").inner_text() == "Сменить пароль"
        assert phone.locator("[data-session]").count() == 2
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
        screenshot(phone, "1-devices")

        # The laptop's session ends from the phone: the laptop is back at the sign-in form.
        phone.click("[data-session=web] button")
        phone.wait_for_selector(".flash")
        assert phone.locator("[data-session]").count() == 1
        laptop.goto("/account/security")
        assert "/login" in laptop.url

        # Signed in again on the laptop; the phone changes the password and stays signed in.
        sign_in(laptop, seller.login)
        phone.fill("[name=current]", PASSWORD)
        phone.fill("[name=password]", "новый-пароль-7")
        phone.fill("[name=password_again]", "новый-пароль-7")
        phone.click("#change-password button[type=submit]")
        phone.wait_for_selector(".flash")
        assert "Пароль изменён" in phone.locator(".flash").first.inner_text()
        assert phone.locator("[data-session]").count() == 1
        assert phone.locator("[data-session=current]").count() == 1
        screenshot(phone, "2-password-changed")
        laptop.goto("/account/security")
        assert "/login" in laptop.url

        # The old password no longer works; the new one does.
        sign_in(laptop, seller.login, expect_in=False)
        assert "/login" in laptop.url
        sign_in(laptop, seller.login, "новый-пароль-7")
    finally:
        laptop.context.close()
