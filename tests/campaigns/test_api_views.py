"""Campaigns through the JSON API and the staff pages."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from codes import issuing
from partner_club.accounts.models import Role
from partner_club.campaigns.models import Campaign
from partner_club.database import utcnow
from tests.campaigns.helpers import register


def _body(**kw):
    now = utcnow()
    body = {
        "name": "Весна",
        "starts_at": (now - timedelta(days=1)).isoformat(),
        "ends_at": (now + timedelta(days=10)).replace(microsecond=0).isoformat(),
        "mechanic": {"kind": "every_nth", "value": 500, "n": 3},
        "audience": {"regions": ["RU-SAM"]},
        "budget": 10000,
        "cap_per_person": 2000,
    }
    body.update(kw)
    return body


def test_staff_create_launch_forecast_and_participant_sees_progress(client, make, api_token, db):
    region = make.region("RU-SAM")
    seller = make.user(Role.SELLER, outlet=make.outlet(region=region))
    admin = make.user(Role.ADMIN)
    db.session.commit()
    staff = {"Authorization": f"Bearer {api_token(admin)}"}
    created = client.post("/api/v1/admin/campaigns", json=_body(), headers=staff)
    assert created.status_code == 201, created.get_json()
    campaign_id = created.get_json()["id"]
    assert (
        client.post(f"/api/v1/admin/campaigns/{campaign_id}/launch", headers=staff).get_json()["status"]
        == "running"
    )
    forecast = client.get(f"/api/v1/admin/campaigns/{campaign_id}/forecast?weeks=6", headers=staff)
    assert forecast.status_code == 200 and len(forecast.get_json()["weeks"]) == 6
    register(db.session, seller, at=utcnow())
    db.session.commit()
    mine = client.get(
        "/api/v1/campaigns", headers={"Authorization": f"Bearer {api_token(seller)}"}
    ).get_json()
    (item,) = mine["campaigns"]
    assert item["progress"]["packages_to_bonus"] == 2 and item["progress"]["cap_left"] == 2000
    # The organizer's own figures stay with staff.
    assert not {"audience", "budget", "spent", "control_share", "priority"} & set(item)
    assert client.post(f"/api/v1/admin/campaigns/{campaign_id}/stop", headers=staff).status_code == 200
    assert client.post(f"/api/v1/admin/campaigns/{campaign_id}/launch", headers=staff).status_code == 409
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/admin/campaigns/{id}/forecast" in spec["paths"] and "/api/v1/campaigns" in spec["paths"]


def test_bad_campaigns_are_refused_with_the_reason(client, make, api_token, db):
    make.user(Role.OWNER, outlet=make.outlet(region=make.region("RU-SAM")))
    admin = make.user(Role.ADMIN)
    db.session.commit()
    staff = {"Authorization": f"Bearer {api_token(admin)}"}
    now = utcnow()
    cases = [
        ("bad_ends_at", _body(ends_at=(now - timedelta(days=3)).isoformat())),
        ("bad_value", _body(mechanic={"kind": "multiplier", "value": 0})),
        ("bad_value", _body(mechanic={"kind": "bonus", "value": float("nan")})),
        ("bad_value", _body(mechanic={"kind": "bonus", "value": 1e20})),
        ("bad_n", _body(mechanic={"kind": "every_nth", "value": 5, "n": float("inf")})),
        ("bad_budget", _body(budget=-5)),
        ("bad_control_share", _body(control_share="abc")),
        ("bad_control_share", _body(control_share=[1])),
        ("bad_audience", _body(audience={"regions": ["RU-XX"]})),
    ]
    for reason, body in cases:
        answer = client.post("/api/v1/admin/campaigns", json=body, headers=staff)
        assert (answer.status_code, answer.get_json()["reason"]) == (422, reason)
    naive = client.post("/api/v1/admin/campaigns", json=_body(starts_at="2026-03-01T00:00:00"), headers=staff)
    assert naive.get_json()["reason"] == "bad_starts_at"
    assert db.session.scalar(select(func.count(Campaign.id))) == 0
    seller = make.user(Role.SELLER)
    db.session.commit()
    forbidden = client.post(
        "/api/v1/admin/campaigns", json=_body(), headers={"Authorization": f"Bearer {api_token(seller)}"}
    )
    assert forbidden.status_code == 403


def test_staff_pages_create_show_and_launch(client, make, login, db):
    make.user(Role.OWNER, outlet=make.outlet(region=make.region("RU-SAM")))
    admin = make.user(Role.ADMIN)
    db.session.commit()
    login(admin)
    form = {
        "name_ru": "Весна",
        "name_en": "Spring",
        "starts_at": "2030-03-01T00:00",
        "ends_at": "2030-02-01T00:00",
        "time_zone": "Europe/Samara",
        "mechanic": "multiplier",
        "value": "2",
        "combine": "adds",
        "priority": "0",
        "regions": "ru-sam",
    }
    refused = client.post("/admin/campaigns/new", data=form, headers={"Accept-Language": "en"})
    assert refused.status_code == 422 and "must end after it starts" in refused.get_data(as_text=True)
    form["ends_at"] = "2030-04-01T00:00"
    saved = client.post("/admin/campaigns/new", data=form)
    assert saved.status_code == 302
    campaign = db.session.scalars(select(Campaign)).one()
    assert campaign.starts_at.isoformat() == "2030-02-28T20:00:00+00:00"  # midnight in Samara, UTC+4
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert 'id="forecast"' in page and "<svg" in page
    client.post(f"/admin/campaigns/{campaign.id}/launch")
    db.session.refresh(campaign)
    assert campaign.status == "running"


def test_first_n_progress_names_each_product_with_what_is_left(client, make, api_token, login, db):
    seller = make.user(Role.SELLER, outlet=make.outlet(region=make.region("RU-SAM")))
    admin = make.user(Role.ADMIN)
    issuing.save_product(db.session, sku="ROLL-1", name="Roll 10 m", points="10")
    db.session.commit()
    staff = {"Authorization": f"Bearer {api_token(admin)}"}
    body = _body(mechanic={"kind": "first_n", "value": 50, "n": 3})
    body["audience"]["skus"] = ["ROLL-1"]
    created = client.post("/api/v1/admin/campaigns", json=body, headers=staff)
    assert created.status_code == 201, created.get_json()
    client.post(f"/api/v1/admin/campaigns/{created.get_json()['id']}/launch", headers=staff)
    register(db.session, seller, at=utcnow())
    db.session.commit()
    (item,) = client.get(
        "/api/v1/campaigns", headers={"Authorization": f"Bearer {api_token(seller)}"}
    ).get_json()["campaigns"]
    assert item["progress"]["bonus_packages_each"] == 3
    assert item["progress"]["bonus_products"] == [{"sku": "ROLL-1", "name": "Roll 10 m", "left": 2}]
    assert item["progress"]["bonus_products_more"] == 0
    login(seller)
    page = client.get("/campaigns", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Roll 10 m: 2 more packages earn the bonus" in page
    assert "+50 points for each of the first 3 packages of a product" in page
    assert "more product" not in page


def test_a_first_n_card_of_many_products_says_how_many_more_there_are(client, make, api_token, login, db):
    seller = make.user(Role.SELLER, outlet=make.outlet(region=make.region("RU-SAM")))
    admin = make.user(Role.ADMIN)
    skus = [f"ROLL-{n}" for n in range(1, 9)]
    for sku in skus:
        issuing.save_product(db.session, sku=sku, name=f"Roll {sku}", points="10")
    db.session.commit()
    staff = {"Authorization": f"Bearer {api_token(admin)}"}
    body = _body(mechanic={"kind": "first_n", "value": 50, "n": 3})
    body["audience"]["skus"] = skus
    created = client.post("/api/v1/admin/campaigns", json=body, headers=staff)
    assert created.status_code == 201, created.get_json()
    client.post(f"/api/v1/admin/campaigns/{created.get_json()['id']}/launch", headers=staff)
    (item,) = client.get(
        "/api/v1/campaigns", headers={"Authorization": f"Bearer {api_token(seller)}"}
    ).get_json()["campaigns"]
    assert [p["sku"] for p in item["progress"]["bonus_products"]] == skus[:5]
    assert item["progress"]["bonus_products_more"] == 3
    login(seller)
    page = client.get("/campaigns", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "and 3 more products" in page
    page = client.get("/campaigns", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "и ещё 3 товара" in page


def test_the_card_promises_the_points_a_registration_gets(client, make, login, db):
    from tests.campaigns.helpers import running, total

    seller = make.user(Role.SELLER)
    now = utcnow()
    ends = now + timedelta(days=20)
    running(db.session, mechanic="bonus", value=2.5, starts_at=now - timedelta(days=1), ends_at=ends, now=now)
    got = total(register(db.session, seller, at=now))
    db.session.commit()
    login(seller)
    page = client.get("/campaigns", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert got == 2 and "+2 points for every package" in page  # one rounding for both
