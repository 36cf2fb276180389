from partner_club.accounts.models import Role


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
