"""The admin pages: services directly, then pages for admin, head office, managers, others."""

from __future__ import annotations

import re

import pytest
from flask import g
from sqlalchemy import func, select

from partner_club import create_app
from partner_club.accounts.models import Role, User, UserStatus
from partner_club.accounts.services import block_user
from partner_club.admin import services
from partner_club.audit.models import AuditEntry
from partner_club.errors import Conflict, Invalid
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Territory
from tests.conftest import _config
from tests.factories import PASSWORD


@pytest.fixture
def ctx(app, db):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def changes_of(outlet, **kw):
    values = dict(
        name=outlet.name,
        legal_name=outlet.legal_name or "",
        tax_number="7707083893",
        address=outlet.address or "",
        kind=outlet.kind,
        region_id=outlet.region_id,
        territory_id=outlet.territory_id,
        lat=outlet.lat,
        lon=outlet.lon,
        active=True,
    )
    values.update(kw)
    return services.OutletChanges(**values)


# --- services -------------------------------------------------------------------------


def test_territory_create_assign_and_unique_name(ctx, make, db):
    admin, rep = make.user(Role.ADMIN), make.user(Role.REP)
    region = make.region()
    territory = services.save_territory(
        db.session, None, region=region, name="Kazan North", rep=None, actor=admin
    )
    services.save_territory(db.session, territory, region=region, name="Kazan North", rep=rep, actor=admin)
    assert territory.rep_id == rep.id
    with pytest.raises(Conflict):
        services.save_territory(db.session, None, region=region, name="Kazan North", rep=None, actor=admin)
    with pytest.raises(Invalid):
        services.save_territory(db.session, territory, region=region, name="X", rep=admin, actor=admin)
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["territory.create", "territory.update"]


def test_staff_accounts(ctx, make, db):
    admin = make.user(Role.ADMIN)
    region = make.region()
    manager = services.create_staff(
        db.session,
        role="regional_manager",
        login="rm@example.com",
        password="long-enough-1",
        full_name="Olga",
        region=region,
        actor=admin,
    )
    assert manager.region_id == region.id
    with pytest.raises(Invalid):
        services.create_staff(
            db.session,
            role="regional_manager",
            login="rm2@example.com",
            password="long-enough-1",
            full_name="No Region",
            region=None,
            actor=admin,
        )
    with pytest.raises(Invalid):
        services.create_staff(
            db.session,
            role="owner",
            login="o@example.com",
            password="long-enough-1",
            full_name="Owner",
            region=None,
            actor=admin,
        )


def test_outlet_update_validates_and_audits_the_difference(ctx, make, db):
    admin = make.user(Role.ADMIN)
    outlet = make.outlet(tax_number=None)
    db.session.commit()
    with pytest.raises(Invalid) as refused:
        services.update_outlet(db.session, outlet, changes_of(outlet, tax_number="7707083894"), actor=admin)
    assert refused.value.code == "inn_checksum"
    db.session.rollback()
    services.update_outlet(db.session, outlet, changes_of(outlet, name="New name"), actor=admin)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "outlet.update"))
    assert entry.details["changes"]["name"][1] == "New name"
    other_region_territory = make.territory()
    with pytest.raises(Invalid):
        services.update_outlet(
            db.session, outlet, changes_of(outlet, territory_id=other_region_territory.id), actor=admin
        )


def test_search_people_by_text_role_and_scope(ctx, make, db):
    admin = make.user(Role.ADMIN)
    rep, _territory, outlet = make.rep_with_outlet()
    mine = make.user(Role.SELLER, outlet=outlet, full_name="Boris Mine")
    theirs = make.user(Role.SELLER, full_name="Boris Theirs")
    assert {u.id for u in services.search_people(db.session, admin, q="boris").items} == {mine.id, theirs.id}
    assert [u.id for u in services.search_people(db.session, rep, q="boris").items] == [mine.id]
    assert all(u.role == "rep" for u in services.search_people(db.session, admin, role="rep").items)
    assert services.search_people(db.session, admin, q="100%").total == 0  # wildcards are literal
    cyrillic = make.user(Role.SELLER, full_name="Пётр Сидоров")
    assert [u.id for u in services.search_people(db.session, admin, q="сидор").items] == [cyrillic.id]


def test_audit_filters(ctx, make, db):
    admin = make.user(Role.ADMIN, full_name="Alice Admin")
    seller = make.user(Role.SELLER)
    block_user(db.session, seller, reason="test", actor=admin)
    assert services.audit_entries(db.session, action="block").total == 1
    assert services.audit_entries(db.session, actor="alice").total == 1
    assert services.audit_entries(db.session, object_type="user", object_id=str(seller.id)).total == 1
    assert services.audit_entries(db.session, actor="nobody").total == 0


# --- pages -----------------------------------------------------------------------------


def test_admin_blocks_and_unblocks_from_the_person_page(client, make, login, db):
    admin = make.user(Role.ADMIN)
    seller = make.user(Role.SELLER)
    make.session.commit()
    login(admin)
    page = client.get(f"/admin/people/{seller.id}").get_data(as_text=True)
    assert 'name="reason"' in page
    assert (
        client.post(f"/admin/people/{seller.id}/block", data={"reason": "Fake receipts"}).status_code == 302
    )
    db.session.expire_all()
    assert db.session.get(User, seller.id).status == UserStatus.BLOCKED.value
    audit_page = client.get("/admin/audit?action=user.block").get_data(as_text=True)
    assert "Fake receipts" in audit_page and "readonly-note" not in audit_page
    client.post(f"/admin/people/{seller.id}/unblock")
    db.session.expire_all()
    assert db.session.get(User, seller.id).status == UserStatus.ACTIVE.value


def test_admin_lists_search_and_edit_shop(client, make, login, db):
    admin = make.user(Role.ADMIN)
    outlet = make.outlet(name="Romashka Kazan")
    make.outlet(name="Vasilek")
    make.session.commit()
    login(admin)
    page = client.get("/admin/shops?q=romash").get_data(as_text=True)
    assert "Romashka Kazan" in page and "Vasilek" not in page
    form = {
        "name": "Romashka Plus",
        "legal_name": "LLC R",
        "tax_number": "7707083893",
        "address": "x",
        "kind": "shop",
        "region_id": outlet.region_id,
        "territory_id": 0,
        "lat": "55.8",
        "lon": "49.1",
        "active": "y",
    }
    assert client.post(f"/admin/shops/{outlet.id}", data=form).status_code == 302
    bad = client.post(
        f"/admin/shops/{outlet.id}", data=dict(form, tax_number="123"), headers={"Accept-Language": "ru"}
    )
    assert "ИНН состоит из 10 цифр" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Outlet, outlet.id).name == "Romashka Plus"


def test_admin_creates_rep_and_territory(client, make, login, db):
    admin = make.user(Role.ADMIN)
    region = make.region()
    make.session.commit()
    login(admin)
    response = client.post(
        "/admin/people/new",
        data={
            "role": "rep",
            "full_name": "Rita Rep",
            "login": "+7 912 000-11-22",
            "password": "long-enough-1",
            "region_id": 0,
        },
    )
    assert response.status_code == 302
    rep = db.session.scalar(select(User).where(User.login == "+79120001122"))
    assert rep.role == "rep"
    client.post("/admin/territories", data={"region_id": region.id, "name": "East", "rep_id": rep.id})
    assert db.session.scalar(select(Territory).where(Territory.name == "East")).rep_id == rep.id
    client.post(f"/admin/regions/{region.id}", data={"name_en": "Tatarstan", "name_ru": "Татарстан"})
    assert "Tatarstan" in client.get("/admin/territories").get_data(as_text=True)


def test_head_office_reads_but_cannot_write(client, make, login, db):
    head = make.user(Role.HEAD_OFFICE)
    seller = make.user(Role.SELLER)
    region = make.region()
    make.session.commit()
    login(head)
    for url in (
        "/admin/people",
        "/admin/shops",
        "/admin/territories",
        "/admin/audit",
        f"/admin/people/{seller.id}",
        f"/admin/shops/{seller.outlet_id}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        assert (
            "readonly-note" in page and "button danger" not in page and 'class="button primary"' not in page
        )
    for url, data in (
        (f"/admin/people/{seller.id}/block", {"reason": "x"}),
        ("/admin/territories", {"region_id": region.id, "name": "T", "rep_id": 0}),
        (f"/admin/regions/{region.id}", {"name_en": "a", "name_ru": "b"}),
        (f"/admin/shops/{seller.outlet_id}", {"name": "Hacked"}),
        ("/admin/people/new", {"role": "admin", "login": "h@example.com", "password": "x" * 10}),
    ):
        assert client.post(url, data=data).status_code == 403, url
    assert db.session.scalar(select(func.count(Territory.id))) == 0
    db.session.expire_all()
    assert db.session.get(User, seller.id).status == UserStatus.ACTIVE.value


def test_regional_manager_sees_only_own_region(client, make, login, db):
    _rep, territory, outlet = make.rep_with_outlet()
    manager = make.user(Role.REGIONAL_MANAGER, region_id=territory.region_id)
    other = make.outlet()
    stranger = make.user(Role.SELLER, outlet=other)
    make.session.commit()
    login(manager)
    page = client.get("/admin/shops").get_data(as_text=True)
    assert outlet.name in page and other.name not in page
    assert client.get(f"/admin/shops/{other.id}").status_code == 403
    assert client.get(f"/admin/people/{stranger.id}").status_code == 403
    assert client.get("/admin/audit").status_code == 403


def test_seller_cannot_see_other_peoples_pages(client, make, login, db):
    seller = make.user(Role.SELLER)
    neighbour = make.user(Role.SELLER)
    make.session.commit()
    login(seller)
    assert client.get("/admin/people").status_code == 403
    assert client.get(f"/admin/people/{neighbour.id}").status_code == 403
    assert client.get("/shop/sellers").status_code == 403
    assert neighbour.login not in client.get("/").get_data(as_text=True)


def test_csrf_is_enforced_when_enabled(app, database_url, redis_url, make, db):
    admin = make.user(Role.ADMIN)
    seller = make.user(Role.SELLER)
    make.session.commit()
    strict = create_app(_config(database_url, redis_url, WTF_CSRF_ENABLED=True))
    browser = strict.test_client()
    with strict.app_context():
        assert browser.post("/login", data={"login": admin.login, "password": PASSWORD}).status_code == 400
        assert browser.post("/join", data={"code": "ABCDE12345"}).status_code == 400
        page = browser.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        signed_in = browser.post(
            "/login", data={"login": admin.login, "password": PASSWORD, "csrf_token": token}
        )
        assert signed_in.status_code == 302
        g.pop("_login_user", None)
        refused = browser.post(f"/admin/people/{seller.id}/block", data={"reason": "no token"})
        assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, seller.id).status == UserStatus.ACTIVE.value


def test_admin_sets_default_invitation_life(client, make, login, db):
    admin = make.user(Role.ADMIN)
    rep, _territory, _ = make.rep_with_outlet()
    make.session.commit()
    login(admin)
    assert client.post("/admin/settings/invitation-days", data={"valid_days": 400}).status_code == 302
    assert client.post("/admin/settings/invitation-days", data={"valid_days": 14}).status_code == 302
    g.pop("_login_user", None)
    login(rep)
    assert re.search(r'name="valid_days"[^>]*value="14"', client.get("/invitations").get_data(as_text=True))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "setting.update"))
    assert entry.details == {"key": "invitations.valid_days", "value": 14}
