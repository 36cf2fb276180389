"""POST /api/v1/registrations through the test client."""

from __future__ import annotations

from flask import g
from sqlalchemy import func, select

from codes.models import BatchStatus, Registration
from codes.scheme import MAX_BATCH, MAX_SERIAL
from codes.services import current_scheme
from fraud.models import FraudObservation
from partner_club import throttle
from partner_club.accounts.models import Role
from partner_club.app import _trust_proxies
from partner_club.throttle import AttemptCounter
from tests.codes.helpers import batch, code


def _post(client, token, body):
    # The db fixture's app context outlives requests, so flask-login's cached
    # user in `g` would leak from one request to the next: forget it.
    g.pop("_login_user", None)
    return client.post("/api/v1/registrations", json=body, headers={"Authorization": f"Bearer {token}"})


def test_register_by_api_then_conflict_for_another(client, make, api_token, db):
    seller, other = make.user(Role.SELLER), make.user(Role.SELLER)
    issued = batch(db.session)
    the_code = code(issued, 5)
    make.session.commit()
    response = _post(client, api_token(seller), {"code": the_code.lower(), "channel": "typed"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "accepted" and body["points"] == 25 and body["product"]["sku"] == "PAINT-10L"
    assert body["breakdown"] == [{"source": "base", "points": 25}]
    # The server sets the channel from the endpoint; the client's "typed" is not believed.
    assert db.session.get(Registration, body["registration_id"]).channel == "api"
    again = _post(client, api_token(seller), {"code": the_code})
    assert again.status_code == 200 and again.get_json()["registration_id"] == body["registration_id"]
    taken = _post(client, api_token(other), {"code": the_code})
    assert taken.status_code == 409 and taken.get_json()["reason"] == "already_registered"
    assert db.session.scalar(select(func.count(Registration.id))) == 1


def test_each_bad_code_has_its_reason_and_only_the_counter_is_written(client, make, api_token, db):
    seller = make.user(Role.SELLER)
    pending = batch(db.session, status=BatchStatus.PRINTED)
    make.session.commit()
    token = api_token(seller)
    for typed, reason in [
        ("ABC", "too_short"),
        (
            code(pending, 1)[:-1] + "Z" if code(pending, 1)[-1] != "Z" else code(pending, 1)[:-1] + "Y",
            "bad_check_symbol",
        ),
        (code(pending, 1), "batch_not_active"),
    ]:
        response = _post(client, token, {"code": typed})
        assert response.status_code == 422 and response.get_json()["reason"] == reason
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Registration.id))) == 0
    counter = db.session.scalar(select(AttemptCounter).where(AttemptCounter.subject == f"user:{seller.id}"))
    assert counter.failures == 3


def test_guessing_gets_429_with_retry_after(client, make, api_token, db):
    seller = make.user(Role.SELLER)
    make.session.commit()
    token = api_token(seller)
    statuses = [_post(client, token, {"code": "ABCDEFGHJKMN0"}).status_code for _ in range(7)]
    assert statuses[:6] == [422] * 6 and statuses[6] == 429
    response = _post(client, token, {"code": "ABCDEFGHJKMN0"})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
    assert response.get_json()["reason"] == "too_many_attempts"
    # A genuine code waits too (its lookup brings the counters), and nothing is registered.
    issued = batch(db.session)
    make.session.commit()
    genuine = _post(client, token, {"code": code(issued, 1)})
    assert genuine.status_code == 429 and genuine.get_json()["reason"] == "too_many_attempts"
    assert db.session.scalar(select(func.count(Registration.id))) == 0
    # So does a wrong code of a real batch, which decodes but is not issued (serial out of range).
    assert _post(client, token, {"code": code(issued, issued.count + 1)}).status_code == 429


def test_staff_and_strangers_cannot_register(client, make, api_token, db):
    rep = make.user(Role.REP)
    make.session.commit()
    assert client.post("/api/v1/registrations", json={"code": "x"}).status_code == 401
    assert _post(client, api_token(rep), {"code": "x"}).status_code == 403


def test_openapi_documents_registrations(client, db):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "post" in spec["paths"]["/api/v1/registrations"]


def test_behind_trusted_proxies_the_participants_address_is_recorded(
    app, client, make, api_token, db, monkeypatch
):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    make.session.commit()
    forwarded = {"X-Forwarded-For": "203.0.113.7"}

    def register(serial):
        g.pop("_login_user", None)
        response = client.post(
            "/api/v1/registrations",
            json={"code": code(issued, serial)},
            headers={"Authorization": f"Bearer {api_token(seller)}", **forwarded},
        )
        assert response.status_code == 201, response.get_json()
        return db.session.get(Registration, response.get_json()["registration_id"]).ip

    # With no proxy configured the header is the sender's own claim and changes nothing.
    assert register(1) == "127.0.0.1"
    monkeypatch.setattr(app, "wsgi_app", app.wsgi_app)  # put back after the test
    monkeypatch.setitem(app.config, "TRUSTED_PROXIES", 1)
    _trust_proxies(app)
    assert register(2) == "203.0.113.7"


def test_a_code_that_decodes_to_a_serial_or_batch_that_cannot_exist_is_refused_and_seen_by_fraud(
    client, make, api_token, db
):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    make.session.commit()
    token = api_token(seller)
    scheme = current_scheme_of(client)
    for forged, reason in [
        # Past any INTEGER column: no key version's reading names an issued code.
        (scheme.encode(issued.number, MAX_SERIAL), "unknown_batch"),
        (scheme.encode(issued.number, issued.count + 1), "serial_out_of_range"),
        (scheme.encode(MAX_BATCH, 1), "unknown_batch"),
    ]:
        response = _post(client, token, {"code": forged})
        assert response.status_code == 422 and response.get_json()["reason"] == reason, response.get_json()
    db.session.expire_all()
    refused = db.session.scalars(select(FraudObservation.failure).order_by(FraudObservation.id)).all()
    assert refused == ["unknown_batch", "serial_out_of_range", "unknown_batch"]
    assert throttle.failures_of(db.session, "code", f"user:{seller.id}") == 3


def current_scheme_of(client):
    with client.application.app_context():
        return current_scheme()
