"""Sign-in limits: per account and per address, /login and the API token counted together,
growing delays without a lockout, and an unknown login as slow as a wrong password."""

from __future__ import annotations

import statistics
import time

import pytest
from werkzeug.security import generate_password_hash

from partner_club.accounts.models import Role
from partner_club.accounts.signin_limits import LIMITS
from tests.factories import PASSWORD


@pytest.fixture
def generous_flood_limit(app):
    """Flask-Limiter's per-address flood limit would answer first: these tests are about
    the counters behind it."""
    saved = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    yield
    app.config["LOGIN_RATE_LIMIT"] = saved


def _quick(user):
    """A person whose password checks in microseconds: the delays under test are seconds long,
    and on a busy machine the default hash alone could outlast the first of them."""
    user.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    return user


def _web(client, login: str, password: str):
    return client.post(
        "/login", data={"login": login, "password": password}, headers={"Accept-Language": "en"}
    )


def _api(client, login: str, password: str):
    return client.post("/api/v1/auth/token", json={"login": login, "password": password})


def test_login_page_and_token_count_together_and_delays_grow(client, make, generous_flood_limit):
    seller = _quick(make.user(Role.SELLER))
    free = LIMITS["account"].free
    for n in range(free):
        attempt = _web if n % 2 else _api
        assert attempt(client, seller.login, "wrong-password").status_code in (200, 401)
    assert _api(client, seller.login, "wrong-password").status_code == 401  # the first delayed one
    refused = _api(client, seller.login, PASSWORD)
    # (Flask-Limiter's headers raise Retry-After to its own window's end; the body is exact.)
    assert refused.status_code == 429 and 1 <= refused.get_json()["retry_after"] <= 2
    assert int(refused.headers["Retry-After"]) >= refused.get_json()["retry_after"]
    assert _web(client, seller.login, PASSWORD).status_code == 429
    time.sleep(refused.get_json()["retry_after"] + 0.1)
    assert _web(client, seller.login, "wrong-password").status_code == 200  # counted: now 4 s
    page = _web(client, seller.login, PASSWORD)
    text = page.get_data(as_text=True)
    assert page.status_code == 429 and ("Try again in" in text or "Попробуйте снова через" in text)
    longer = _api(client, seller.login, PASSWORD)
    assert longer.status_code == 429 and 3 <= longer.get_json()["retry_after"] <= 4
    time.sleep(longer.get_json()["retry_after"] + 0.1)
    assert _web(client, seller.login, PASSWORD).status_code == 302, "the owner is locked out"
    # The right password cleared the account's count.
    assert _api(client, seller.login, "wrong-password").status_code == 401
    assert _api(client, seller.login, PASSWORD).status_code == 200


def test_an_address_trying_many_logins_slows_down(client, make, generous_flood_limit):
    people = [_quick(make.user(Role.SELLER)) for _ in range(LIMITS["address"].free + 2)]
    seller = people.pop()
    for person in people:  # one wrong password each: no account reaches its own limit
        assert _api(client, person.login, "password1").status_code == 401
    assert _api(client, seller.login, PASSWORD).status_code == 429
    other_address = client.post(
        "/api/v1/auth/token",
        json={"login": seller.login, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )
    assert other_address.status_code == 200


def test_an_unknown_login_costs_the_same_time_as_a_wrong_password(client, make, generous_flood_limit):
    seller = make.user(Role.SELLER)

    def timed(login: str) -> float:
        started = time.perf_counter()
        assert _api(client, login, "wrong-password").status_code == 401
        return time.perf_counter() - started

    # Interleaved, so a busy spell of the machine falls on both; without the dummy hash an
    # unknown login answers in a few per cent of a wrong password's time.
    pairs = [(timed(seller.login), timed("nobody@example.com")) for _ in range(5)]
    wrong = statistics.median(w for w, _ in pairs)
    unknown = statistics.median(u for _, u in pairs)
    assert unknown > 0.5 * wrong, pairs
