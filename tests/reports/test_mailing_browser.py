"""A regional manager on a 360 px phone chooses a rep of their region and previews the report e-mail."""

from __future__ import annotations

from partner_club.accounts.models import Role
from tests.browser import sign_in
from tests.pagecheck import horizontal_scroll


def test_a_regional_manager_chooses_a_recipient_and_previews_the_email(phone, make, db, screenshot):
    tatarstan, bashkortostan = make.region("RU-TA"), make.region("RU-BA")
    manager = make.user(
        Role.REGIONAL_MANAGER, region_id=tatarstan.id, full_name="Марат Менеджер", locale="ru"
    )
    rep = make.user(Role.REP, full_name="Ирина Представитель", email="irina@example.com", locale="en")
    make.territory(tatarstan, rep=rep, name="Казань-Север")
    outsider = make.user(Role.REP, full_name="Чужой Представитель", email="ufa@example.com")
    make.territory(bashkortostan, rep=outsider, name="Уфа")
    make.session.commit()
    page = phone
    sign_in(page, manager.login)

    page.goto("/reports/subscriptions")
    options = page.locator("#recipient option").all_inner_texts()
    assert any("Ирина Представитель" in o for o in options)
    assert not any("Чужой" in o for o in options)
    page.select_option("#recipient", label=next(o for o in options if "Ирина" in o))
    page.select_option("#frequency", "weekly")
    page.select_option("#weekday", "1")
    page.select_option("#hour", "9")
    page.select_option("#time_zone", "Asia/Yekaterinburg")
    assert horizontal_scroll(page) == []
    screenshot(page, "1-form")

    page.get_by_role("button", name="Просмотр").click()
    page.wait_for_url("**/reports/subscriptions/preview?**")
    assert "Weekly KPI report" in page.locator(".email-subject").inner_text()  # the rep reads English
    frame = page.frame_locator("iframe.email-frame")
    assert "Open the KPI map" in frame.locator("body").inner_text()
    assert horizontal_scroll(page) == []
    screenshot(page, "2-preview")

    page.get_by_role("link", name="Назад к рассылкам отчётов").click()
    page.get_by_role("button", name="Сохранить").click()
    page.wait_for_url("**/reports/subscriptions")
    assert "Ирина Представитель будет получать отчёт" in page.locator("body").inner_text()
    screenshot(page, "3-saved")
