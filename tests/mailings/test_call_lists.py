"""Call lists through the pages: made from a segment, exported safely, outcomes recorded back."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from partner_club.accounts.models import Role
from partner_club.audit.models import AuditEntry
from partner_club.mailings.models import CallEntry, CallList, Mailing

RU = {"Accept-Language": "ru"}


def test_a_call_list_is_exported_with_formulas_neutralised_and_takes_outcomes(client, login, make, db):
    region = make.region()
    shop = make.outlet(region=region, name='=HYPERLINK("http://evil","x")')
    person = make.user(Role.OWNER, outlet=shop, full_name="@SUM(A1)", phone="+79001234567")
    manager = make.user(Role.REGIONAL_MANAGER, region_id=region.id)
    db.session.commit()
    login(manager)
    answer = client.post(
        "/mailings/new",
        data={"action": "call_list", "list_title": "Quiet shops", "reason": "", "regions": [str(region.id)]},
    )
    assert answer.status_code == 302
    call_list = db.session.query(CallList).one()
    assert call_list.region_id == region.id and call_list.reason
    csv_text = client.get(f"/mailings/calls/{call_list.id}.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in csv_text and "'@SUM(A1)" in csv_text and "'+79001234567" in csv_text
    sheet = load_workbook(io.BytesIO(client.get(f"/mailings/calls/{call_list.id}.xlsx").data)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "'=HYPERLINK(\"http://evil\",\"x\")" in values
    assert all(not (isinstance(v, str) and v.startswith("=")) for v in values)
    downloads = db.session.scalars(
        select(AuditEntry.actor_id).where(AuditEntry.action == "mailings.call_list_export")
    ).all()
    assert downloads == [manager.id, manager.id]  # who took the phone numbers, each time
    entry = db.session.query(CallEntry).one()
    assert entry.user_id == person.id
    answer = client.post(
        f"/mailings/calls/{call_list.id}/entries/{entry.id}",
        data={"outcome": "will_register", "note": "Tuesday"},
    )
    assert answer.status_code == 302
    page = client.get(f"/mailings/calls/{call_list.id}").get_data(as_text=True)
    assert ("will register" in page or "будет регистрировать" in page) and "Tuesday" in page
    assert (
        client.post(
            f"/mailings/calls/{call_list.id}/entries/{entry.id}", data={"outcome": "bribed"}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(CallEntry, entry.id).outcome == "will_register"


def test_another_regions_manager_sees_neither_the_list_nor_the_mailing(client, login, make, db):
    north, south = make.region(), make.region()
    make.user(Role.OWNER, outlet=make.outlet(region=north))
    admin = make.user(Role.ADMIN)
    outsider = make.user(Role.REGIONAL_MANAGER, region_id=south.id)
    db.session.commit()
    login(admin)
    client.post(
        "/mailings/new", data={"action": "call_list", "list_title": "All", "regions": [str(north.id)]}
    )
    client.post(
        "/mailings/new",
        data={"action": "draft", "title_ru": "Т", "title_en": "T", "body_ru": "Б", "body_en": "B"},
    )
    call_list, mailing = db.session.query(CallList).one(), db.session.query(Mailing).one()
    client.post("/logout")
    login(outsider)
    assert client.get(f"/mailings/calls/{call_list.id}").status_code == 404
    assert client.get(f"/mailings/calls/{call_list.id}.csv").status_code == 404
    assert client.get(f"/mailings/{mailing.id}").status_code == 404
    refused = client.post(
        "/mailings/new",
        data={
            "action": "draft",
            "title_ru": "Т",
            "title_en": "T",
            "body_ru": "Б",
            "body_en": "B",
            "regions": [str(north.id)],
        },
    )
    assert refused.status_code == 422
    audience = client.post("/mailings/audience", data={"regions": [str(north.id)]})
    assert audience.status_code == 422


def test_the_audience_answer_counts_people_and_shops(client, login, make, db):
    region = make.region()
    shop = make.outlet(region=region)
    make.user(Role.OWNER, outlet=shop)
    make.user(Role.SELLER, outlet=shop)
    login(make.user(Role.HEAD_OFFICE))
    db.session.commit()
    assert client.get("/mailings/").status_code == 403  # head office reads KPIs, sends nothing
    client.post("/logout")
    login(make.user(Role.ADMIN))
    db.session.commit()
    answer = client.post(
        "/mailings/audience",
        data={
            "regions": [str(region.id)],
            "channels": ["sms"],
            "title_ru": "Т",
            "body_ru": "я" * 80,
            "title_en": "T",
            "body_en": "hi",
        },
    ).get_json()
    assert (answer["people"], answer["shops"]) == (2, 1)
    assert answer["parts_ru"] == 2 and answer["parts_en"] == 1 and answer["sms_total"] == 4


def test_staff_pages_list_change_and_cancel_a_scheduled_mailing(client, login, make, db):
    region = make.region()
    make.user(Role.OWNER, outlet=make.outlet(region=region))
    manager = make.user(Role.REGIONAL_MANAGER, region_id=region.id)
    db.session.commit()
    login(manager)
    texts = {"title_ru": "Т", "title_en": "T", "body_ru": "Б", "body_en": "B"}
    answer = client.post(
        "/mailings/new",
        data={**texts, "action": "schedule", "send_at": "2099-01-01T10:00", "channels": ["sms"]},
    )
    assert answer.status_code == 302
    mailing = db.session.query(Mailing).one()
    assert mailing.status == "scheduled" and mailing.region_id == region.id and mailing.send_at.hour == 7
    assert client.get("/mailings/").status_code == 200
    assert "B" in client.get(f"/mailings/{mailing.id}/edit").get_data(as_text=True)
    past = client.post(
        f"/mailings/{mailing.id}/edit", data={**texts, "action": "schedule", "send_at": "2001-01-01T10:00"}
    )
    assert past.status_code == 422
    assert client.post(f"/mailings/{mailing.id}/cancel").status_code == 302
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).status == "cancelled"
    assert client.get(f"/mailings/{mailing.id}/counts.json").get_json()["status"] == "cancelled"
    seller = make.user(Role.SELLER)
    db.session.commit()
    client.post("/logout")
    login(seller)
    assert client.get("/mailings/").status_code == 403


def test_a_regional_manager_cannot_tell_other_regions_shops_from_unknown_ids(client, login, make, db):
    north, south = make.region(), make.region()
    make.outlet(region=north, external_id="N-1")
    make.outlet(region=south, external_id="S-1")
    manager = make.user(Role.REGIONAL_MANAGER, region_id=north.id)
    db.session.commit()
    login(manager)

    def refusal(shop_id: str) -> tuple[int, str]:
        answer = client.post("/mailings/audience", data={"shops": shop_id}, headers=RU)
        return answer.status_code, answer.get_json()["error"].replace(shop_id, "<id>")

    assert refusal("S-1") == refusal("NO-SUCH-1")
    assert refusal("S-1")[1] == "В вашем регионе нет магазинов с такими кодами: <id>."
    assert client.post("/mailings/audience", data={"shops": "N-1"}).status_code == 200


def test_a_call_lists_reason_names_roles_and_kinds_of_shop_in_russian(client, login, make, db):
    region = make.region()
    make.user(Role.OWNER, outlet=make.outlet(region=region, kind="market"))
    manager = make.user(Role.REGIONAL_MANAGER, region_id=region.id)
    db.session.commit()
    login(manager)
    answer = client.post(
        "/mailings/new",
        data={
            "action": "call_list",
            "list_title": "Рынки",
            "roles": ["owner", "seller"],
            "kinds": ["market", "shop"],
        },
        headers=RU,
    )
    assert answer.status_code == 302
    reason = db.session.query(CallList).one().reason
    assert "Роли: владелец магазина, продавец" in reason
    assert "Типы магазинов: Павильон на рынке, Магазин" in reason
    assert "owner" not in reason and "market" not in reason
