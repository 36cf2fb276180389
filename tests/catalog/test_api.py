"""The catalog API: GET /catalog, POST /orders, GET /orders/<id>."""

from __future__ import annotations

from flask import g
from sqlalchemy import func, select

from catalog.models import Order
from partner_club.accounts.models import Role
from tests.catalog.conftest import ADDRESS, PHONE


def forget_signed_in_user() -> None:
    """The test's app context outlives requests, and Flask-Login caches the user in `g`."""
    g.pop("_login_user", None)


def auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def order_body(prize_id: int, quantity: int = 1, address: str = ADDRESS, phone: str = PHONE) -> dict:
    return {
        "items": [{"prize": prize_id, "quantity": quantity}],
        "delivery": {"address": address, "phone": phone},
    }


def test_catalog_lists_visible_prizes_with_points(client, make, cat, api_token):
    person = cat.participant(150)
    cheap, dear = cat.prize(points=100), cat.prize(points=400)
    cat.prize(regions=[make.region()])  # another region: hidden
    make.session.commit()
    data = client.get("/api/v1/catalog", headers=auth(api_token(person))).get_json()
    assert data["balance"] == 150
    assert [(p["id"], p["points"], p["affordable"], p["points_to_go"]) for p in data["prizes"]] == [
        (cheap.id, 100, True, 0),
        (dear.id, 400, False, 250),
    ]


def test_order_201_then_get_it_and_nobody_else_can(client, make, cat, api_token):
    person, stranger = cat.participant(1000), cat.participant(1000)
    mug = cat.prize(points=300, stock=2)
    make.session.commit()
    token = api_token(person)
    response = client.post("/api/v1/orders", json=order_body(mug.id, 2), headers=auth(token))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "placed" and body["points"] == 600 and body["balance"] == 400
    got = client.get(f"/api/v1/orders/{body['id']}", headers=auth(token)).get_json()
    assert got["items"][0]["quantity"] == 2 and got["delivery"]["phone"] == "+79123456789"
    forget_signed_in_user()
    other = client.get(f"/api/v1/orders/{body['id']}", headers=auth(api_token(stranger)))
    assert other.status_code == 404 and other.get_json()["reason"] == "order_not_found"


def test_409_when_points_or_stock_short(client, make, cat, api_token):
    person = cat.participant(500)
    mug = cat.prize(points=300, stock=1)
    dear = cat.prize(points=600, stock=5)
    make.session.commit()
    token = api_token(person)
    short_points = client.post("/api/v1/orders", json=order_body(dear.id, 1), headers=auth(token))
    assert short_points.status_code == 409
    short_stock = client.post("/api/v1/orders", json=order_body(mug.id, 1), headers=auth(token))
    assert short_stock.status_code == 201
    rich = cat.participant(5000)
    make.session.commit()
    forget_signed_in_user()
    gone = client.post("/api/v1/orders", json=order_body(mug.id, 1), headers=auth(api_token(rich)))
    assert gone.status_code == 409 and gone.get_json()["reason"] == "out_of_stock"
    assert short_points.get_json()["reason"] == "insufficient_points"


def test_422_bad_input_in_russian(client, make, cat, api_token):
    person = cat.participant(1000)
    mug = cat.prize(points=100)
    hidden = cat.prize(regions=[make.region()])
    make.session.commit()
    headers = auth(api_token(person), **{"Accept-Language": "ru"})
    cases = [
        ({"items": [], "delivery": {"address": ADDRESS, "phone": PHONE}}, "empty_order"),
        ({"items": [{"prize": "one"}], "delivery": {"address": ADDRESS, "phone": PHONE}}, "bad_item"),
        (order_body(mug.id, 0), "bad_quantity"),
        (order_body(mug.id, address="Kazan"), "bad_address"),
        (order_body(mug.id, phone="call me"), "bad_phone"),
        (order_body(hidden.id), "prize_not_available"),
        ({"items": [{"prize": mug.id}]}, "bad_delivery"),
    ]
    for body, reason in cases:
        response = client.post("/api/v1/orders", json=body, headers=headers)
        assert response.status_code == 422 and response.get_json()["reason"] == reason, (
            reason,
            response.get_json(),
        )
    assert make.session.scalar(select(func.count(Order.id))) == 0


def test_idempotency_key_makes_a_retry_harmless(client, make, cat, api_token):
    person = cat.participant(1000)
    mug = cat.prize(points=100, stock=5)
    make.session.commit()
    headers = auth(api_token(person), **{"Idempotency-Key": "abc-123"})
    first = client.post("/api/v1/orders", json=order_body(mug.id), headers=headers)
    again = client.post("/api/v1/orders", json=order_body(mug.id), headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["balance"] == 900
    assert make.session.scalar(select(func.count(Order.id))) == 1


def test_staff_cannot_order_and_openapi_documents_the_paths(client, make, cat, api_token):
    admin = make.user(Role.ADMIN)
    mug = cat.prize()
    make.session.commit()
    refused = client.post("/api/v1/orders", json=order_body(mug.id), headers=auth(api_token(admin)))
    assert refused.status_code == 403
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/catalog", "/api/v1/orders", "/api/v1/orders/{order_id}"} <= set(paths)
    assert "409" in paths["/api/v1/orders"]["post"]["responses"]


def test_tax_profile_then_the_big_order_goes_through(client, make, cat, api_token):
    person = cat.participant(10000)
    tv = cat.prize(points=1000, value_kopecks=500000)
    make.session.commit()
    headers = auth(api_token(person))
    asked = client.post("/api/v1/orders", json=order_body(tv.id), headers=headers)
    assert asked.status_code == 409 and asked.get_json()["reason"] == "tax_profile_required"
    bad = client.put("/api/v1/tax-profile", json={"inn": "500100732258", "consent": True}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["reason"] == "bad_inn"
    no = client.put("/api/v1/tax-profile", json={"inn": "500100732259", "consent": "yes"}, headers=headers)
    assert no.status_code == 422 and no.get_json()["reason"] == "no_consent"
    assert (
        client.put(
            "/api/v1/tax-profile", json={"inn": "500100732259", "consent": True}, headers=headers
        ).status_code
        == 200
    )
    assert client.post("/api/v1/orders", json=order_body(tv.id), headers=headers).status_code == 201
