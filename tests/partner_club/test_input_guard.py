"""Hostile input: huge ids are 404, NUL bytes and broken UTF-8 are 400 with a message."""

from __future__ import annotations

from partner_club.accounts.models import Role
from partner_club.api.base import issue_token

HUGE = "99999999999999999999"


def _bearer(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(user)}", "Accept-Language": "en"}


def test_ids_beyond_the_columns_range_are_not_found(client, make, login):
    seller = make.user(Role.SELLER)
    make.session.commit()
    headers = _bearer(seller)
    for path in (f"/api/v1/orders/{HUGE}", f"/api/v1/orders/{2**31}", f"/api/v1/orders/{2**63}"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404, path
    login(seller)
    assert client.get(f"/prizes/orders/{HUGE}").status_code == 404
    assert client.get(f"/prizes/orders/{2**31}").status_code == 404


def test_json_ids_out_of_range_answer_422_with_a_reason(client, make):
    seller = make.user(Role.SELLER)
    make.session.commit()
    delivery = {"address": "Kazan, Lenina 1, flat 2", "phone": "+79161112233"}
    for prize in (1e30, 2**31, 10**30):
        body = {"items": [{"prize": prize, "quantity": 1}], "delivery": delivery}
        response = client.post("/api/v1/orders", json=body, headers=_bearer(seller))
        assert response.status_code == 422, prize
        assert response.json["reason"] in ("bad_item", "number_out_of_range")


def test_the_message_speaks_russian(client):
    response = client.get("/api/v1/catalog?q=%FF", headers={"Accept-Language": "ru"})
    assert response.status_code == 400 and response.json["title"].startswith(
        "Адрес — не текст в кодировке UTF-8"
    )


def test_nul_and_broken_utf8_answer_400(client, make):
    seller = make.user(Role.SELLER)
    make.session.commit()
    headers = _bearer(seller)
    response = client.post("/api/v1/registrations", json={"code": "AB\x00CD"}, headers=headers)
    assert response.status_code == 400 and response.json["reason"] == "nul_character"
    assert "NUL" in response.json["title"]
    response = client.post(
        "/api/v1/registrations",
        data=b'{"code": "\xff\xfe"}',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and response.json["reason"] == "invalid_utf8"
    assert client.get("/api/v1/catalog?q=%00", headers=headers).status_code == 400
    page = client.get("/login?next=%C3%28", headers={"Accept-Language": "en"})
    assert page.status_code == 400 and "not valid UTF-8" in page.get_data(as_text=True)
    page = client.post("/login", data={"login": "a\x00b", "password": "x"}, headers={"Accept-Language": "en"})
    assert page.status_code == 400 and "The field login contains a NUL" in page.get_data(as_text=True)
    assert client.get("/prizes/%FF").status_code == 400
