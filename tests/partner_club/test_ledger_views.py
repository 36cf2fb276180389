"""The points pages and API, through the test client."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from partner_club.accounts.models import Role
from partner_club.audit.models import AuditEntry
from partner_club.database import utcnow
from partner_club.ledger import credits
from partner_club.ledger import services as ledger
from partner_club.ledger.models import LedgerEntry
from partner_club.ledger.policy import ExpiryPolicy, PointValue, point_value, registration_rule


def _points(db, user, *amounts, at=None):
    account = ledger.account_for_user(db.session, user)
    for n, amount in enumerate(amounts):
        ledger.accrue(db.session, account, amount, cause_type="registration", cause_id=100 + n, at=at)
    return account


def test_balance_page_shows_balances_expiry_and_history(client, db, make, login):
    seller = make.user(Role.SELLER)
    ledger.set_expiry_policy(db.session, ExpiryPolicy("months", 12), actor=None)
    account = _points(db, seller, 40, at=utcnow() - timedelta(days=350))
    ledger.hold(db.session, account, 7, cause_type="registration", cause_id=555)
    ledger.spend(db.session, account, 15, cause_type="order", cause_id=12)
    make.session.commit()
    login(seller)
    page = client.get("/points/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-figure="active">25<' in page and 'data-figure="pending">7<' in page
    assert "25 points expire within 30 days" in page
    assert "Points spent" in page and "prize order #12" in page
    assert "Points held for review" in page and "code registration #555" in page


def test_balance_page_speaks_russian(client, db, make, login):
    seller = make.user(Role.SELLER, locale="ru")
    _points(db, seller, 40)
    make.session.commit()
    login(seller)
    page = client.get("/points/").get_data(as_text=True)
    assert "Мои баллы" in page and "регистрация кода #100" in page


def test_history_is_paged(client, db, make, login):
    seller = make.user(Role.SELLER)
    _points(db, seller, *range(1, 26))
    make.session.commit()
    login(seller)
    first = client.get("/points/history").get_data(as_text=True)
    second = client.get("/points/history?page=2").get_data(as_text=True)
    assert first.count('class="ledger-line"') == 20 and second.count('class="ledger-line"') == 5
    assert 'rel="next"' in first and 'rel="prev"' in second
    assert client.get("/points/history?page=99").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/points/liability",
        "/points/admin/settings",
        "/points/territory",
        "/points/shop",
        "/points/admin/accounts",
    ],
)
def test_a_seller_cannot_open_staff_pages(client, db, make, login, path):
    seller = make.user(Role.SELLER)
    make.session.commit()
    login(seller)
    assert client.get(path).status_code == 403


def test_owner_sees_sellers_points_and_sets_the_split(client, db, make, login):
    owner = make.user(Role.OWNER)
    seller = make.user(Role.SELLER, outlet=owner.outlet, full_name="Anna Seller")
    stranger = make.user(Role.SELLER, full_name="Someone Else")
    _points(db, seller, 33)
    _points(db, stranger, 44)
    make.session.commit()
    login(owner)
    page = client.get("/points/shop").get_data(as_text=True)
    assert "Anna Seller" in page and "33" in page and "Someone Else" not in page

    refused = client.post("/points/shop/rule", data={"mode": "split", "person_percent": "150"})
    assert refused.status_code == 422
    response = client.post("/points/shop/rule", data={"mode": "split", "person_percent": "60"})
    assert response.status_code == 302
    db.session.expire_all()
    assert registration_rule(db.session, owner.outlet_id).person_percent == 60
    entries = credits.credit(
        db.session, seller, 10, kind="accrual", by_shop_rule=True, cause_type="registration", cause_id=9
    )
    assert [e.amount for e in entries] == [6, 4]


def test_rep_sees_totals_of_the_territory_only(client, db, make, login):
    rep, _territory, outlet = make.rep_with_outlet()
    mine = make.user(Role.SELLER, outlet=outlet)
    other = make.user(Role.SELLER)
    _points(db, mine, 12)
    _points(db, other, 99)
    ledger.accrue(
        db.session, ledger.account_for_outlet(db.session, outlet), 5, cause_type="registration", cause_id=1
    )
    make.session.commit()
    login(rep)
    page = client.get("/points/territory").get_data(as_text=True)
    assert 'data-figure="active">17<' in page and outlet.name in page and other.outlet.name not in page


def test_head_office_sees_the_liability_by_age_and_region(client, db, make, login):
    region = make.region(name_en="Tatarstan", name_ru="Татарстан")
    seller = make.user(Role.SELLER, outlet=make.outlet(region=region))
    _points(db, seller, 100, at=utcnow() - timedelta(days=200))
    _points(db, seller, 20)
    admin = make.user(Role.ADMIN)
    ledger.set_point_value(db.session, PointValue(amount=Decimal("0.5")), actor=admin)
    head = make.user(Role.HEAD_OFFICE)
    make.session.commit()
    login(head)
    page = client.get("/points/liability", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-figure="active">120<' in page and "worth 60.00 RUB" in page  # English: 1,234.50
    assert "<td>under 3 months</td><td class=\"num\">20</td>" in page
    assert "<td>6 to 12 months</td><td class=\"num\">100</td>" in page
    assert "Tatarstan" in page


def test_admin_adjusts_with_a_reason_and_reverses(client, db, make, login):
    admin = make.user(Role.ADMIN, locale="en")
    seller = make.user(Role.SELLER)
    make.session.commit()
    login(admin)
    url = f"/points/admin/person/{seller.id}"
    assert client.get(url).status_code == 200
    missing = client.post(url + "/adjust", data={"amount": "50", "reason": ""})
    assert missing.status_code == 422
    assert client.post(url + "/adjust", data={"amount": "50", "reason": "Welcome bonus"}).status_code == 302
    too_much = client.post(url + "/adjust", data={"amount": "-80", "reason": "oops"})
    assert too_much.status_code == 422 and "Not enough points" in too_much.get_data(as_text=True)
    assert ledger.balance_of(db.session, seller).active == 50

    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "adjustment"))
    assert client.post(f"/points/admin/entries/{entry.id}/reverse", data={"reason": ""}).status_code == 302
    db.session.expire_all()
    assert ledger.balance_of(db.session, seller).active == 50  # no reason, no reversal
    client.post(f"/points/admin/entries/{entry.id}/reverse", data={"reason": "given by mistake"})
    db.session.expire_all()
    assert ledger.balance_of(db.session, seller).active == 0
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["points.adjust", "points.reverse"]
    page = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Entry reversed" in page and "given by mistake" in page


def test_admin_changes_settings(client, db, make, login):
    admin = make.user(Role.ADMIN, locale="en")
    make.session.commit()
    login(admin)
    assert client.get("/points/admin/settings").status_code == 200
    assert (
        client.post("/points/admin/settings/expiry", data={"mode": "quarter_end", "months": "6"}).status_code
        == 302
    )
    bad = client.post(
        "/points/admin/settings/point-value",
        data={"amount": "a lot", "currency": "RUB"},
        headers={"Accept-Language": "en"},
    )
    assert bad.status_code == 422 and "must be a number" in bad.get_data(as_text=True)
    saved = client.post("/points/admin/settings/point-value", data={"amount": "0,25", "currency": "rub"})
    assert saved.status_code == 302
    assert client.post("/points/admin/settings/rule", data={"mode": "shop"}).status_code == 302
    db.session.expire_all()
    assert str(point_value(db.session).amount) == "0.2500"
    assert registration_rule(db.session).mode == "shop"
    assert client.get("/points/admin/accounts?q=person").status_code == 200


def test_api_me_and_ledger(client, db, make, api_token):
    seller = make.user(Role.SELLER)
    account = _points(db, seller, *range(1, 31))
    ledger.hold(db.session, account, 4, cause_type="registration", cause_id=77)
    make.session.commit()
    headers = {"Authorization": f"Bearer {api_token(seller)}", "Accept-Language": "en"}
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert me["balance"] == {"active": sum(range(1, 31)), "pending": 4}
    page = client.get("/api/v1/ledger?per_page=10&page=2", headers=headers).get_json()
    assert (page["page"], page["pages"], page["total"], len(page["items"])) == (2, 4, 31, 10)
    newest = client.get("/api/v1/ledger?per_page=1", headers=headers).get_json()["items"][0]
    assert newest["bucket"] == "pending" and newest["cause"] == {"type": "registration", "id": "77"}
    assert newest["title"] == "Points held for review"
    bad = client.get("/api/v1/ledger?per_page=1000", headers=headers)
    assert bad.status_code == 422 and bad.get_json()["reason"] == "bad_per_page"
    assert client.get("/api/v1/ledger?account=shop", headers=headers).status_code == 403
    assert "/api/v1/ledger" in client.get("/api/v1/openapi.json").get_json()["paths"]


def test_api_ledger_is_for_participants(client, db, make, api_token):
    rep = make.user(Role.REP)
    make.session.commit()
    response = client.get("/api/v1/ledger", headers={"Authorization": f"Bearer {api_token(rep)}"})
    assert response.status_code == 403


def test_api_ledger_needs_a_sign_in(client, db):
    assert client.get("/api/v1/ledger").status_code == 401


def test_regional_manager_sees_the_liability_of_the_region_only(client, db, make, login):
    mine, other = make.region(name_en="Mine"), make.region(name_en="Other")
    _points(db, make.user(Role.SELLER, outlet=make.outlet(region=mine)), 30)
    _points(db, make.user(Role.SELLER, outlet=make.outlet(region=other)), 70)
    manager = make.user(Role.REGIONAL_MANAGER, region_id=mine.id, locale="en")
    make.session.commit()
    login(manager)
    page = client.get("/points/liability").get_data(as_text=True)
    assert 'data-figure="active">30<' in page and "Mine" in page and "Other" not in page
