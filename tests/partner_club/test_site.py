from datetime import UTC, datetime

from partner_club.accounts.models import Role
from partner_club.settings_store import put_setting
from partner_club.site import date_filter, datetime_filter


def test_login_page_has_fields_and_csrf_token_field(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'name="login"' in page and 'name="password"' in page


def test_sign_in_and_home_lists_role_pages(client, make, login):
    user = make.user(Role.SELLER)
    make.session.commit()
    login(user)
    page = client.get("/").get_data(as_text=True)
    assert user.full_name in page


def test_wrong_password_is_refused_in_russian(client, make):
    user = make.user(Role.SELLER)
    make.session.commit()
    response = client.post(
        "/login", data={"login": user.login, "password": "nope-nope-1"}, headers={"Accept-Language": "ru"}
    )
    assert response.status_code == 200
    assert "Неверный логин или пароль" in response.get_data(as_text=True)


def test_api_token_and_me(client, make, api_token):
    user = make.user(Role.OWNER)
    make.session.commit()
    token = api_token(user)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["role"] == "owner" and me["shop"]["id"] == user.outlet_id


def test_api_refuses_without_token_as_problem(client, db):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_openapi_lists_core_paths(client, db):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/auth/token" in doc["paths"] and "/api/v1/me" in doc["paths"]


def test_brand_comes_from_settings_and_unsafe_values_fall_back(client, make, login, db):
    user = make.user(Role.SELLER)
    put_setting(  # through the store, so every process's settings cache sees the change
        db.session,
        "brand",
        {"name_ru": "Клуб мастеров", "primary": "#123456", "accent": "red;}", "logo": "//evil/x.svg"},
    )
    make.session.commit()
    login(user)
    page = client.get("/", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Клуб мастеров" in page and "--brand: #123456" in page
    assert "red;}" not in page and "//evil" not in page and "/static/brand/logo.svg" in page


def test_participant_home_shows_balance_register_action_and_bottom_bar(client, make, login):
    user = make.user(Role.SELLER)
    make.session.commit()
    login(user)
    page = client.get("/", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert 'class="button primary hero"' in page and "Мои баллы" in page
    assert page.count('class="bottombar"') == 1 and "Главная" in page


def test_staff_get_a_grouped_side_menu_and_no_bottom_bar(client, make, login):
    admin = make.user(Role.ADMIN)
    make.session.commit()
    login(admin)
    page = client.get("/", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert 'class="bottombar"' not in page and 'class="sidemenu"' in page
    for group in ("Коды", "Люди и магазины", "Призы", "Баллы", "Проверки", "Обзор"):
        assert f"<h2>{group}</h2>" in page


def test_dates_lose_the_year_word(app):
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        assert date_filter(datetime(2026, 12, 5, 9, tzinfo=UTC), "long") == "5 декабря 2026"
        assert "г." not in datetime_filter(datetime(2026, 12, 5, 14, 3, tzinfo=UTC), "medium")


def test_blocking_asks_first_then_blocks_and_can_be_undone(client, make, login):
    admin = make.user(Role.ADMIN)
    seller = make.user(Role.SELLER, full_name="Пётр Сидоров")
    make.session.commit()
    login(admin)
    ask = client.post(
        f"/admin/people/{seller.id}/block/confirm",
        data={"reason": "Чужие коды"},
        headers={"Accept-Language": "ru"},
    ).get_data(as_text=True)
    assert "Заблокировать: Пётр Сидоров?" in ask and "Чужие коды" in ask
    make.session.refresh(seller)
    assert not seller.is_blocked  # the first step changes nothing
    client.post(f"/admin/people/{seller.id}/block", data={"reason": "Чужие коды"})
    make.session.refresh(seller)
    assert seller.is_blocked
    client.post(f"/admin/people/{seller.id}/unblock")
    make.session.refresh(seller)
    assert not seller.is_blocked


def test_owner_is_asked_before_removing_a_seller(client, make, login):
    _rep, _territory, outlet = make.rep_with_outlet()
    owner = make.user(Role.OWNER, outlet=outlet)
    seller = make.user(Role.SELLER, outlet=outlet, full_name="Мария Продавцова")
    make.session.commit()
    login(owner)
    ask = client.post(f"/shop/sellers/{seller.id}/remove/confirm", headers={"Accept-Language": "ru"})
    text = ask.get_data(as_text=True)
    assert "Убрать Мария Продавцова из магазина?" in text and "код магазина" in text
    make.session.refresh(seller)
    assert seller.outlet_id == outlet.id


def test_manifest_carries_the_brand(client, db):
    body = client.get("/manifest.webmanifest", headers={"Accept-Language": "ru"}).get_json(force=True)
    assert body["name"] == "Клуб партнёров" and body["theme_color"].startswith("#")


def test_a_page_kept_for_offline_leaves_the_message_for_the_page_the_person_sees(client, make, login):
    from partner_club.site import KEEPING_HEADER

    owner = make.user(Role.OWNER)
    login(owner)
    client.post("/shop/referral", data={"valid_days": 30})
    kept = client.get("/points/", headers={KEEPING_HEADER: "1"})
    assert kept.status_code == 200
    assert 'class="flash' not in kept.get_data(as_text=True)
    seen = client.get("/shop/referral").get_data(as_text=True)
    assert 'class="flash flash-success"' in seen
    assert 'class="flash' not in client.get("/shop/referral").get_data(as_text=True)
    assert KEEPING_HEADER in client.get("/sw.js").get_data(as_text=True)
