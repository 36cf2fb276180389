"""What operators and load balancers rely on: /healthz, /readyz and the security headers."""

from __future__ import annotations

import re

import pytest

from partner_club import create_app
from partner_club.accounts.models import Role
from tests import processes
from tests.conftest import _config


def test_healthz_answers_without_asking_anything(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_reports_the_database_and_redis_with_latency(client, redis_url):
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = response.get_json()["checks"]
    assert checks["database"]["ok"] and checks["database"]["ms"] >= 0
    assert ("redis" in checks) == bool(redis_url)


def test_readyz_is_503_when_redis_does_not_answer(app, db, database_url):
    dead = f"redis://127.0.0.1:{processes.free_port()}/0"
    storage = app.config["RATELIMIT_STORAGE_URI"]
    other = create_app(_config(database_url, dead, RATELIMIT_STORAGE_URI=storage))
    response = other.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"] == {
        "ok": False,
        "error": "ConnectionError",
    }


@pytest.mark.parametrize("path", ["/login", "/healthz", "/api/v1/me", "/static/css/club.css", "/nowhere"])
def test_every_answer_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    policy = headers["Content-Security-Policy"]
    for directive in ("script-src 'self' 'nonce-", "style-src 'self' 'nonce-", "font-src 'self'"):
        assert directive in policy
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in headers  # PUBLIC_URL is http in the tests


def test_hsts_when_the_club_is_served_over_https(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://club.example")
    assert client.get("/login").headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_inline_blocks_of_the_map_carry_the_requests_nonce(client, make, login, db):
    make.region("RU-TA", name_ru="Татарстан", name_en="Tatarstan")
    admin = make.user(Role.ADMIN)
    db.session.commit()
    login(admin)
    response = client.get("/reports/map")
    assert response.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    page = response.get_data(as_text=True)
    inline = re.findall(r"<(?:style|script)(?![^>]*\bsrc=)[^>]*>", page)
    # A JSON data block is never run, so CSP leaves it alone; every other inline block needs the nonce.
    executable = [tag for tag in inline if 'type="application/json"' not in tag]
    assert all(f'nonce="{nonce}"' in tag for tag in executable), executable
    assert "style=" not in page and "onclick=" not in page
    assert (
        client.get("/reports/map").headers["Content-Security-Policy"]
        != response.headers["Content-Security-Policy"]
    )
