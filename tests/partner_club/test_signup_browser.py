"""A real phone (360 px, Russian): the rep's card -> a new shop owner signs up -> signed in."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image
from sqlalchemy import select

from partner_club.accounts.models import User
from tests.browser import forget_person, sign_in


def test_rep_card_to_new_shop_owner_on_a_phone(phone, live_server, make, db, screenshot):
    rep, territory, _ = make.rep_with_outlet()
    make.session.commit()
    page = phone

    # The rep signs in and prints one card.
    sign_in(page, rep.login)
    page.goto("/invitations")
    assert page.locator("h1").first.inner_text() == "Приглашения"
    page.fill("[name=count]", "2")
    page.fill("[name=label]", "ул. Баумана")
    screenshot(page, "1-rep-invitations")
    page.click("form.issue-form button[type=submit]")
    page.wait_for_selector(".invite-card")
    assert page.locator(".invite-card").count() == 2
    assert page.locator(".invite-card svg").count() == 2
    code = page.locator(".invite-code").first.inner_text().strip()
    screenshot(page, "2-cards")
    # The printed QR code, read back from the pixels, is the card's join link.
    qr_png = page.locator(".invite-card .invite-qr").first.screenshot()
    payloads = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png)))]
    assert payloads == [f"{live_server}/join/{code.replace('-', '')}"]

    # Someone else, on the same phone, types the code by hand, in lower case.
    forget_person(page)
    page.goto("/join")
    page.fill("[name=code]", code.lower())
    page.click("button[type=submit]")
    page.wait_for_selector("#join-form")
    assert "Вступить в клуб" in page.locator("h1").inner_text()

    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 55.7963, "longitude": 49.1088})
    page.fill("[name=trade_name]", "Ромашка")
    page.fill("[name=legal_name]", "ООО «Ромашка»")
    page.fill("[name=tax_number]", "7707083894")  # a typo in the check digit
    page.fill("[name=address]", "Казань, ул. Баумана, 1")
    page.click("#use-location")
    page.wait_for_function("document.querySelector('[name=lat]').value !== ''")
    page.fill("[name=full_name]", "Анна Петрова")
    page.fill("[name=login]", "+7 912 345-67-89")
    page.fill("[name=password]", "секрет-пароль-1")
    page.fill("[name=password_again]", "секрет-пароль-1")
    page.click("#join-form button[type=submit]")
    assert "контрольная цифра" in page.locator(".has-error .error").first.inner_text()
    screenshot(page, "3-inn-typo")

    page.fill("[name=tax_number]", "7707083893")
    page.fill("[name=password]", "секрет-пароль-1")
    page.fill("[name=password_again]", "секрет-пароль-1")
    screenshot(page, "4-form")
    page.click("#join-form button[type=submit]")
    page.wait_for_selector(".home-cards")
    assert "Анна Петрова" in page.locator("h1").inner_text()
    assert "Добро пожаловать" in page.content()
    screenshot(page, "5-signed-in")
    # No horizontal scrolling at 360 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    db.session.expire_all()
    owner = db.session.scalar(select(User).where(User.login == "+79123456789"))
    assert owner.role == "owner" and owner.outlet.territory_id == territory.id
    assert abs(owner.outlet.lat - 55.7963) < 1e-4 and owner.outlet.tax_number == "7707083893"
