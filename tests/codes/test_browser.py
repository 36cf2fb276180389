"""Real-browser journeys at phone width (360 px, Russian)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from codes.models import Registration
from codes.normalize import LAYOUT
from partner_club.accounts.models import Role
from tests.browser import sign_in
from tests.codes.helpers import batch, code, product

TO_LAYOUT = {latin: cyrillic for cyrillic, latin in LAYOUT.items()}


def _registrations(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Registration.id)))


def test_type_a_code_with_the_russian_layout_on_and_get_points(phone, make, db, screenshot):
    seller = make.user(Role.SELLER)
    issued = batch(db.session, product(db.session, name="Краска фасадная 10 л", points="40"))
    real = code(issued, 12)
    typed = "".join(TO_LAYOUT.get(ch, ch) for ch in real).lower()  # what the Russian layout produces
    make.session.commit()
    page = phone
    page.goto("/codes/register")
    sign_in(page, seller.login, open_form=False)
    page.wait_for_url("**/codes/register")

    # a typo (two neighbours swapped) is caught before anything is sent
    swapped = typed[1] + typed[0] + typed[2:] if typed[0] != typed[1] else typed[:-2] + typed[-1] + typed[-2]
    page.fill("[data-code-input]", swapped)
    page.click("button[type=submit]")
    assert "опечатка" in page.locator("[data-code-feedback]").inner_text()
    assert _registrations(db) == 0
    screenshot(page, "1-typo")

    page.fill("[data-code-input]", "")
    page.type("[data-code-input]", typed)
    assert page.locator("[data-code-feedback]").inner_text() == ""
    page.click("button[type=submit]")
    page.wait_for_selector(".codes-result")
    result = page.locator(".codes-result").inner_text()
    assert "+40" in result and "Краска фасадная 10 л" in result and "Баллы начислены" in result
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert _registrations(db) == 1
    screenshot(page, "2-points")


def test_open_a_deep_link_sign_in_and_confirm_with_one_tap(phone, live_server, make, db, screenshot):
    seller = make.user(Role.SELLER)
    issued = batch(db.session, product(db.session, name="Брус 150x150x6000", points="300/m3", volume=0.135))
    real = code(issued, 77)
    make.session.commit()
    page = phone
    page.goto(f"{live_server}/c/{real}")  # what the phone's camera opens from the QR code
    page.wait_for_url("**/login**")
    sign_in(page, seller.login, open_form=False)
    page.wait_for_url(f"**/c/{real}")
    assert "Брус 150x150x6000" in page.content()
    assert _registrations(db) == 0
    screenshot(page, "1-confirm")
    page.click("[data-confirm-code]")
    page.wait_for_selector(".codes-result")
    assert f"+{round(300 * 0.135)}" in page.locator(".codes-result").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert _registrations(db) == 1
    screenshot(page, "2-done")


def test_admin_issues_a_batch_and_downloads_labels_on_a_phone(phone, make, db, screenshot, work_jobs):
    admin = make.user(Role.ADMIN)
    product(db.session, name="Краска фасадная 10 л")
    make.session.commit()
    page = phone
    page.goto("/codes/batches/new")
    sign_in(page, admin.login, open_form=False)
    page.wait_for_url("**/codes/batches/new")
    page.fill("[name=count]", "48")
    page.fill("[name=production_lot]", "L-42")
    screenshot(page, "1-issue")
    page.click("button[type=submit]")
    page.wait_for_url(
        re.compile(r"/codes/batches/\d+$")
    )  # "**/codes/batches/*" also matches the form's own address
    work_jobs()
    page.wait_for_selector(
        ".job[data-job-url]", state="detached"
    )  # the page reloads itself when the job ends
    assert "48" in page.locator(".codes-facts").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "2-batch")
    with page.expect_download() as download:
        page.click("text=PDF с этикетками")
    assert download.value.suggested_filename.endswith(".pdf")
    page.click("text=Активировать (отгружена)")
    page.wait_for_selector(".flash-success")
    assert "активирована" in page.locator("h1").inner_text()
