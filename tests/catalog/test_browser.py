"""The prize journey on a phone (360 px, Russian): order, admin ships, participant sees the tracking number."""

from __future__ import annotations

import io

from PIL import Image

from catalog.models import Order
from catalog.prizes import store_picture
from partner_club.accounts.models import Role
from tests.browser import sign_in


def picture(session):
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (11, 92, 171)).save(out, "PNG")
    return store_picture(session, out.getvalue())


def test_order_a_prize_and_follow_it_to_the_tracking_number(
    phone, browser, live_server, make, cat, db, screenshot
):
    admin = make.user(Role.ADMIN)
    person = cat.participant(1000, full_name="Ольга Продавцова")
    branded = cat.category(name_ru="Фирменные товары")
    cat.prize(
        points=300,
        stock=3,
        category=branded,
        name_ru="Фирменная кружка",
        name_en="Mug",
        picture=picture(make.session),
    )
    cat.prize(points=1500, category=branded, name_ru="Термос", name_en="Thermos")
    make.session.commit()
    page = phone
    sign_in(page, person.login)

    page.goto("/prizes/")
    assert page.locator(".balance-points").inner_text() == "1000"
    thermos = page.locator(".prize", has_text="Термос")
    assert "500" in thermos.locator(".afford").inner_text()  # 500 points to go
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "1-catalog")
    page.locator(".prize", has_text="Фирменная кружка").locator("button.add-to-cart").click()
    page.goto("/prizes/cart")
    screenshot(page, "2-cart")
    page.click("a[href$='/prizes/checkout']")
    page.fill("[name=address]", "Казань, ул. Баумана, д. 12, кв. 5")
    page.fill("[name=phone]", "+7 912 345-67-89")
    screenshot(page, "3-checkout")
    page.click("button.place-order")
    page.wait_for_url("**/prizes/orders/*")
    order_url = page.url
    order_id = order_url.rsplit("/", 1)[1]
    assert page.locator(".order-status").get_attribute("class").endswith("status-placed")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "4-order-placed")

    page.goto("/prizes/")
    assert page.locator(".balance-points").inner_text() == "700"
    page.goto("/prizes/orders")
    assert page.locator(f".order-item[data-order='{order_id}']").count() == 1

    # The organizer's staff, in a browser of their own.
    staff_context = browser.new_context(
        viewport={"width": 360, "height": 780}, locale="ru-RU", base_url=live_server
    )
    staff = staff_context.new_page()
    staff.set_default_timeout(15000)
    try:
        sign_in(staff, admin.login)
        staff.goto("/prizes/admin/orders?status=placed")
        staff.click(f"tr[data-order='{order_id}'] a")
        staff.click("button.primary >> nth=0")  # confirm
        staff.fill("[name=tracking_number]", "RA123456789RU")
        staff.click(".ship-form button")
        assert staff.locator(".tracking-number").inner_text() == "RA123456789RU"
        assert staff.evaluate("document.documentElement.scrollWidth") <= 360
        screenshot(staff, "5-staff-shipped")
        for path in ("/prizes/admin/prizes", "/prizes/admin/tax", "/prizes/admin/orders"):
            staff.goto(path)
            assert staff.evaluate("document.documentElement.scrollWidth") <= 360, path
        screenshot(staff, "5b-staff-queue")
    finally:
        staff_context.close()

    page.goto(order_url)
    assert page.locator(".tracking-number").inner_text() == "RA123456789RU"
    assert page.locator(".order-status").get_attribute("class").endswith("status-shipped")
    screenshot(page, "6-participant-sees-tracking")


def test_a_prize_out_of_reach_stays_out_of_the_cart_and_a_bare_phone_is_read_as_russian(
    phone, make, cat, db, screenshot
):
    person = cat.participant(500)
    cat.prize(points=300, stock=3, name_ru="Фирменная кружка", name_en="Mug")
    cat.prize(points=1500, stock=3, name_ru="Термос", name_en="Thermos")
    make.session.commit()
    page = phone
    sign_in(page, person.login)
    page.goto("/prizes/")
    thermos = page.locator(".prize", has_text="Термос").locator("button.add-to-cart")
    assert thermos.is_disabled() and "Не хватает баллов: 1000" in thermos.inner_text()
    screenshot(page, "1-out-of-reach")
    # Sent anyway (an old page, a script): the server refuses it too.
    page.locator(".prize", has_text="Термос").locator("form").evaluate("form => form.submit()")
    page.wait_for_selector(".flash-error")
    assert "Термос" in page.inner_text(".flash-error")
    page.locator(".prize", has_text="Фирменная кружка").locator("button.add-to-cart").click()
    page.goto("/prizes/checkout")
    page.fill("[name=address]", "Казань, ул. Баумана, д. 12, кв. 5")
    page.fill("[name=phone]", "9161112233")  # as people type it: no country code
    page.click("button.place-order")
    page.wait_for_url("**/prizes/orders/*")
    order = db.session.get(Order, int(page.url.rsplit("/", 1)[1]))
    assert order.phone == "+79161112233" and [line.prize.name_en for line in order.lines] == ["Mug"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
