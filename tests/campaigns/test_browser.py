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
    expect(card).to_contain_text("+500 баллов за каждую 3-ю упаковку магазина")
    expect(card).to_contain_text("ещё 3 упаковки до бонуса")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "4-seller")


def test_a_seller_sees_the_campaign_registers_a_code_and_reads_the_breakdown(phone, make, db, screenshot):
    from datetime import timedelta

    from partner_club.database import utcnow
    from tests.campaigns.helpers import running
    from tests.codes.helpers import batch, code, product

    seller = make.user(Role.SELLER, outlet=make.outlet(), full_name="Сергей Продавцов")
    issued = batch(db.session, product(db.session, name="Краска фасадная 10 л", points="40"))
    now = utcnow()
    running(db.session, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=20), now=now)
    db.session.commit()
    page = phone
    sign_in(page, seller.login)
    page.goto("/")
    card = page.locator(".home-campaigns")
    expect(card).to_contain_text("Весна")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "1-home")
    page.goto("/codes/register")
    page.fill("[data-code-input]", code(issued, 7))
    page.click("button[type=submit]")
    breakdown = page.locator(".codes-result [data-breakdown]")
    expect(breakdown).to_contain_text("«Весна» (×2) = 80")
    expect(page.locator(".codes-result .big")).to_contain_text("+80")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "2-breakdown")
    from tests.pagecheck import check_page

    assert not check_page(page, russian=True)
    page.goto("/points/history")
    expect(page.locator("[data-breakdown]").first).to_contain_text("«Весна» (×2) = 80")


def test_an_owner_gets_a_referral_link_on_a_phone(phone, make, db, screenshot):
    from partner_club.campaigns.bonuses import BonusRule, store_rules

    owner = make.user(Role.OWNER, full_name="Ольга Хозяйкина")
    store_rules(db.session, welcome=BonusRule(), referral=BonusRule(points=1000, after=5), actor_id=None)
    db.session.commit()
    page = phone
    sign_in(page, owner.login)
    page.goto("/")
    expect(page.locator(".home-referral")).to_contain_text("1 000")
    page.click(".home-referral a")
    page.click("button:has-text('Новая ссылка-приглашение')")
    expect(page.locator(".flash")).to_contain_text("Новая ссылка-приглашение готова")
    assert page.locator(".invite-qr svg").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "referral")
    from tests.pagecheck import check_page

    findings = check_page(page, russian=True)
    assert not findings, findings
    link = page.locator("#referral-link").inner_text()
    page.goto(
        link.split("bench.test", 1)[-1] if "://" not in link else "/join/" + link.rsplit("/join/", 1)[1]
    )
    expect(page.locator(".flash")).to_contain_text("Это ваша собственная ссылка-приглашение")


def test_a_first_n_card_counts_down_each_product_on_a_phone(phone, make, db, screenshot):
    from datetime import timedelta

    from partner_club.database import utcnow
    from tests.campaigns.helpers import running
    from tests.codes.helpers import batch, code, product
    from tests.pagecheck import check_page

    seller = make.user(Role.SELLER, outlet=make.outlet(), full_name="Сергей Продавцов")
    rolls = [product(db.session, sku=f"ROLL-{n}", name=f"Рулон {n} м", points="10") for n in range(1, 8)]
    issued = batch(db.session, rolls[0])
    now = utcnow()
    running(
        db.session,
        name_ru="Первые три рулона",
        mechanic="first_n",
        value=50,
        n=3,
        skus=[roll.sku for roll in rolls],
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=20),
        now=now,
    )
    db.session.commit()
    page = phone
    sign_in(page, seller.login)
    page.goto("/codes/register")
    page.fill("[data-code-input]", code(issued, 3))
    page.click("button[type=submit]")
    expect(page.locator(".codes-result .big")).to_contain_text("+60")  # 10 base, 50 the bonus
    page.goto("/campaigns")
    card = page.locator(".campaign-card")
    expect(card).to_contain_text("Первые три рулона")
    expect(card).to_contain_text("+50 баллов за каждую из первых 3 упаковок товара")
    expect(card).to_contain_text("Рулон 1 м: бонус ещё за 2 упаковки")
    expect(card).to_contain_text("Рулон 2 м: бонус ещё за 3 упаковки")
    expect(card).to_contain_text("и ещё 2 товара")  # seven products, five listed
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "first-n")
    findings = check_page(page, russian=True)
    assert not findings, findings
