"""Staff create a campaign on a phone (360 px, Russian), read its forecast and launch it;
a seller then sees it among their campaigns with what is left."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from partner_club.accounts.models import Role
from partner_club.campaigns.models import Campaign
from tests.browser import sign_in


def test_staff_create_forecast_and_launch_a_campaign_on_a_phone(phone, make, db, screenshot):
    region = make.region("RU-SAM", name_ru="Самарская область")
    seller = make.user(Role.SELLER, outlet=make.outlet(region=region))
    admin = make.user(Role.ADMIN)
    db.session.commit()
    page = phone
    sign_in(page, admin.login)
    page.goto("/admin/campaigns")
    page.click("text=Новая акция")
    page.fill("[name=name_ru]", "Весна x2")
    page.fill("[name=name_en]", "Spring x2")
    page.fill("[name=starts_at]", "2026-01-01T00:00")
    page.fill("[name=ends_at]", "2025-12-01T00:00")
    page.select_option("[name=mechanic]", "every_nth")
    page.fill("[name=value]", "500")
    page.fill("[name=n]", "3")
    page.fill("[name=regions]", "RU-SAM")
    page.click("button:has-text('Сохранить')")
    expect(page.locator(".error")).to_contain_text("Акция должна заканчиваться позже, чем начинается")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "1-refused")
    page.fill("[name=ends_at]", "2036-12-01T00:00")
    page.click("button:has-text('Сохранить')")
    page.wait_for_url("**/admin/campaigns/*")
    expect(page.locator("#audience")).to_contain_text("магазинов: 1")
    expect(page.locator("#forecast")).to_contain_text("За последние 12 недель")
    assert page.locator("#forecast svg").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "2-forecast")
    page.click("button:has-text('Запустить')")
    expect(page.locator(".flash")).to_contain_text("Акция запущена")
    assert db.session.scalar(select(Campaign.status)) == "running"
    screenshot(page, "3-running")
    campaign = db.session.scalars(select(Campaign)).one()
    assert campaign.time_zone == "Europe/Moscow" and campaign.starts_at.hour == 21
    sign_in(page, seller.login)
    page.goto("/campaigns")
    card = page.locator(".campaign-card")
    expect(card).to_contain_text("Весна x2")
    expect(card).to_contain_text("ещё 3 упаковки до бонуса")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "4-seller")
