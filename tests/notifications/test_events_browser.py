"""On a phone (360 px, Russian): a seller joins a shop, the owner sees the waiting seller's notice
in the in-app list, opens it and lands on the sellers page; the profile page fits the phone."""

from __future__ import annotations

from playwright.sync_api import expect

from partner_club.accounts.invitations import issue_seller_invitation
from partner_club.accounts.models import Role
from tests.browser import forget_person, sign_in
from tests.pagecheck import check_page


def test_owner_sees_the_waiting_seller_and_opens_the_sellers_page(phone, make, db, screenshot):
    _rep, _territory, shop = make.rep_with_outlet()
    owner = make.user(Role.OWNER, outlet=shop, full_name="Анна Владелица", locale="ru")
    code = issue_seller_invitation(db.session, owner, valid_days=7).code
    make.session.commit()
    page = phone

    forget_person(page)
    page.goto(f"/join/{code}")
    page.fill("[name=full_name]", "Иван Продавцов")
    page.fill("[name=login]", "+7 912 555-01-02")
    page.fill("[name=password]", "секрет-пароль-1")
    page.fill("[name=password_again]", "секрет-пароль-1")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(lambda url: "/join" not in url)

    forget_person(page)  # the new seller may be signed in on this phone now
    sign_in(page, owner.login)
    bell = page.locator("header .bell")
    expect(bell.locator(".bell-count")).to_have_text("1")
    bell.click()
    page.wait_for_url("**/notifications/")
    notice = page.locator(".notice.unread")
    expect(notice).to_have_count(1)
    assert "Иван Продавцов ждёт вашего одобрения" in notice.inner_text()
    screenshot(page, "1-owner-notice")
    notice.locator("a").click()
    page.wait_for_url("**/shop/sellers")
    assert "Иван Продавцов" in page.content()
    expect(page.locator("header .bell .bell-count")).to_have_count(0)
    screenshot(page, "2-sellers")


def test_the_profile_page_fits_a_phone(phone, make, db, screenshot):
    person = make.user(Role.OWNER, full_name="Анна Владелица", phone="+79125550103")
    make.session.commit()
    page = phone
    sign_in(page, person.login)
    page.goto("/account/profile")
    expect(page.locator("h1")).to_have_text("Профиль")
    expect(page.locator("fieldset.channels")).to_have_count(7)  # an owner's groups
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    findings = check_page(page, russian=True)
    assert not findings, findings
    screenshot(page, "3-profile")
