"""Invitation cards, joining and sellers through the pages."""

from __future__ import annotations

from flask import g
from sqlalchemy import func, select

from partner_club.accounts import invitations as inv
from partner_club.accounts.models import Invitation, Role, User, UserStatus
from partner_club.outlets.models import Outlet

GOOD_INN = "7707083893"


def forget_user() -> None:
    """Requests in a test share the test's app context, hence `g`; Flask-Login
    caches the signed-in person there, so switch clients with a clean `g`."""
    g.pop("_login_user", None)


def shop_form(invitation, region, **kw):
    data = dict(
        mode="shop",
        trade_name="Romashka",
        legal_name="LLC Romashka",
        tax_number=GOOD_INN,
        address="Kazan, Bauman st. 1",
        region_id=str(region.id),
        lat="55.79",
        lon="49.12",
        full_name="Anna Petrova",
        login="+7 912 345-67-89",
        password="secret-pass-1",
        password_again="secret-pass-1",
    )
    data.update(kw)
    return data


def test_rep_prints_cards_with_qr_links(app, client, make, login, db, monkeypatch):
    rep, territory, _ = make.rep_with_outlet()
    make.session.commit()
    login(rep)
    page = client.get("/invitations").get_data(as_text=True)
    assert territory.name in page
    response = client.post(
        "/invitations",
        data={"territory_id": territory.id, "count": 3, "valid_days": 14, "label": "Bauman st."},
    )
    assert response.status_code == 302 and "/invitations/cards/" in response.location
    cards = client.get(response.location).get_data(as_text=True)
    codes = db.session.scalars(select(Invitation.code)).all()
    assert len(codes) == 3
    for code in codes:
        assert inv.format_code(code) in cards
    assert cards.count("<svg") == 3 and cards.count('class="invite-card"') == 3
    assert "@page" not in cards  # print rules live in the stylesheet
    assert cards.count("Вступайте в «Клуб партнёров»") == 3  # the brand, by default the club's name
    monkeypatch.setitem(app.config, "BRAND_NAME", "Клуб мастеров Колор")
    branded = client.get(response.location).get_data(as_text=True)
    assert branded.count("Вступайте в «Клуб мастеров Колор»") == 3


def test_rep_cannot_see_another_territorys_invitations(client, make, login, db):
    rep, _territory, _ = make.rep_with_outlet()
    other, other_territory, _ = make.rep_with_outlet()
    theirs = inv.issue_outlet_invitations(db.session, other, other_territory, count=1, valid_days=5)[0]
    make.session.commit()
    login(rep)
    assert theirs.code not in client.get("/invitations").get_data(as_text=True)
    assert client.get(f"/invitations/cards/{theirs.batch}").status_code == 403
    assert client.post(f"/invitations/{theirs.id}/revoke").status_code == 403
    assert (
        client.post(
            "/invitations", data={"territory_id": other_territory.id, "count": 1, "valid_days": 5}
        ).status_code
        == 200
    )
    assert db.session.scalar(select(func.count(Invitation.id))) == 1


def test_seller_and_owner_cannot_open_invitations(client, make, login, db):
    seller = make.user(Role.SELLER)
    make.session.commit()
    login(seller)
    assert client.get("/invitations").status_code == 403


def test_join_page_checks_the_code_and_signs_up_a_shop(client, make, db):
    rep, territory, _ = make.rep_with_outlet()
    card = inv.issue_outlet_invitations(db.session, rep, territory, count=1, valid_days=5)[0]
    make.session.commit()
    wrong = client.post("/join", data={"code": "ZZZZZ-ZZZZZ"}, headers={"Accept-Language": "ru"})
    assert "Приглашения с таким кодом нет" in wrong.get_data(as_text=True)
    typed = inv.format_code(card.code).lower()
    response = client.post("/join", data={"code": typed})
    assert response.location.endswith(f"/join/{card.code}")
    form_page = client.get(f"/join/{card.code}").get_data(as_text=True)
    assert 'name="tax_number"' in form_page and "use-location" in form_page
    done = client.post(f"/join/{card.code}", data=shop_form(card, territory.region))
    assert done.status_code == 302
    owner = db.session.scalar(select(User).where(User.login == "+79123456789"))
    assert owner.role == "owner" and owner.outlet.name == "Romashka"
    assert "Anna Petrova" in client.get("/").get_data(as_text=True)  # signed in
    again = client.get(f"/join/{card.code}", headers={"Accept-Language": "ru"})
    assert again.status_code == 404 and "уже использовано" in again.get_data(as_text=True)


def test_bad_sign_up_shows_errors_in_russian_and_writes_nothing(client, make, db):
    rep, territory, _ = make.rep_with_outlet()
    card = inv.issue_outlet_invitations(db.session, rep, territory, count=1, valid_days=5)[0]
    make.user(Role.SELLER, login="+79123456789")
    make.session.commit()
    before = db.session.scalar(select(func.count(User.id))), db.session.scalar(select(func.count(Outlet.id)))
    ru = {"Accept-Language": "ru"}
    cases = [
        (dict(tax_number="7707083894"), "контрольная цифра"),
        (dict(login="+7 912 345-67-8"), "Номер телефона выглядит неверно"),
        (dict(login="anna@"), "Адрес e-mail выглядит неверно"),
        (dict(), "Этот логин уже занят"),
        (dict(password_again="other-pass-2"), "Пароли не совпадают"),
        (dict(lat="5", login="new@example.com"), "вне стран клуба"),
    ]
    for change, message in cases:
        response = client.post(
            f"/join/{card.code}", data=shop_form(card, territory.region, **change), headers=ru
        )
        assert response.status_code == 200
        assert message in response.get_data(as_text=True), change
    assert (
        db.session.scalar(select(func.count(User.id))),
        db.session.scalar(select(func.count(Outlet.id))),
    ) == before
    assert db.session.get(Invitation, card.id).uses == 0


def test_join_code_checks_are_rate_limited(app, client, make, db):
    saved = app.config["JOIN_RATE_LIMIT"]
    app.config["JOIN_RATE_LIMIT"] = "3 per minute"
    try:  # fixed windows: 7 tries spread over at most two windows put 4 in one of them
        statuses = [client.get("/join/AAAAABBBBB").status_code for _ in range(7)]
    finally:
        app.config["JOIN_RATE_LIMIT"] = saved
    assert statuses[0] == 404 and 429 in statuses and set(statuses) == {404, 429}


def test_owner_invites_seller_who_waits_then_is_approved(client, make, login, db, app):
    _rep, _territory, outlet = make.rep_with_outlet()
    owner = make.user(Role.OWNER, outlet=outlet)
    make.session.commit()
    login(owner)
    client.post("/shop/sellers/code", data={"valid_days": 10})
    code = db.session.scalar(select(Invitation.code).where(Invitation.outlet_id == outlet.id))
    assert inv.format_code(code) in client.get("/shop/sellers").get_data(as_text=True)
    seller_client = app.test_client()
    forget_user()
    response = seller_client.post(
        f"/join/{code}",
        data={
            "full_name": "Ivan Seller",
            "login": "ivan@example.com",
            "password": "secret-pass-1",
            "password_again": "secret-pass-1",
        },
        headers={"Accept-Language": "ru"},
    )
    assert response.status_code == 302
    home = seller_client.get("/", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "одобрит" in home or "одобр" in home
    seller = db.session.scalar(select(User).where(User.login == "ivan@example.com"))
    assert seller.status == UserStatus.PENDING.value
    me = seller_client.get("/api/v1/me").get_json()
    assert me["status"] == "pending"
    forget_user()
    assert client.post(f"/shop/sellers/{seller.id}/approve").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, seller.id).status == UserStatus.ACTIVE.value


def test_owner_cannot_see_or_touch_another_shops_sellers(client, make, login, db):
    owner = make.user(Role.OWNER)
    stranger = make.user(Role.SELLER, status=UserStatus.PENDING.value)
    make.session.commit()
    login(owner)
    assert stranger.login not in client.get("/shop/sellers").get_data(as_text=True)
    assert client.post(f"/shop/sellers/{stranger.id}/approve").status_code == 403
    db.session.expire_all()
    assert db.session.get(User, stranger.id).status == UserStatus.PENDING.value


def test_position_typed_with_a_comma_is_read_and_nonsense_is_refused(client, make, db):
    rep, territory, _ = make.rep_with_outlet()
    first = inv.issue_outlet_invitations(db.session, rep, territory, count=1, valid_days=5)[0]
    make.session.commit()
    bad = client.post(
        f"/join/{first.code}",
        data=shop_form(first, territory.region, lat="пятьдесят"),
        headers={"Accept-Language": "ru"},
    )
    assert bad.status_code == 200 and "Введите число" in bad.get_data(as_text=True)
    done = client.post(f"/join/{first.code}", data=shop_form(first, territory.region, lat="55,8", lon="49,1"))
    assert done.status_code == 302
    assert db.session.scalar(select(Outlet).where(Outlet.name == "Romashka")).lat == 55.8


def test_head_office_reads_invitations_but_cannot_issue_or_cancel(client, make, login, db):
    rep, territory, _ = make.rep_with_outlet()
    card = inv.issue_outlet_invitations(db.session, rep, territory, count=1, valid_days=5)[0]
    head = make.user(Role.HEAD_OFFICE)
    make.session.commit()
    login(head)
    page = client.get("/invitations").get_data(as_text=True)
    assert inv.format_code(card.code) in page and 'name="count"' not in page and "/revoke" not in page
    assert (
        client.post(
            "/invitations", data={"territory_id": territory.id, "count": 1, "valid_days": 5}
        ).status_code
        == 403
    )
    assert client.post(f"/invitations/{card.id}/revoke").status_code == 403
    assert db.session.scalar(select(func.count(Invitation.id))) == 1
