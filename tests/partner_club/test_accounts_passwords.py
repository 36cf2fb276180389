"""Forgotten passwords: a one-time e-mailed link, through a real SMTP server."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from partner_club.accounts.models import PasswordReset, Role
from partner_club.accounts.passwords import RESETS_PER_HOUR
from partner_club.database import utcnow
from tests.factories import PASSWORD
from tests.notifications import fixtures as notification_fixtures

smtp = notification_fixtures.smtp  # a local mail server


def _links(inbox) -> list[str]:
    """The reset links of the e-mails the server got, from their plain-text part."""
    found = []
    for message in inbox.messages:
        text = next(part for part in message.walk() if part.get_content_type() == "text/plain")
        found += re.findall(r"http://club\.test(/password/reset/\S+)", text.get_payload(decode=True).decode())
    return found


def _ask(client, login: str):
    return client.post("/password/forgot", data={"login": login}, headers={"Accept-Language": "en"})


def _page_text(response) -> str:
    """The page without what changes on every request anyway: the CSRF token, the CSP nonce."""
    page = re.sub(r'name="csrf[_-]token"[^>]*>', "", response.get_data(as_text=True))
    return re.sub(r'nonce="[^"]*"', "", page)


def test_reset_link_works_once_and_signs_out_everywhere(app, client, make, db, smtp, work_jobs, login):
    seller = make.user(Role.SELLER, login="ivan@example.com")
    other_device = login(seller, to=app.test_client())
    assert _ask(client, "IVAN@example.com").status_code == 200
    work_jobs()
    [link] = _links(smtp)
    assert smtp.messages[0]["To"] == "ivan@example.com"
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": "brand-new-pass", "password_again": "brand-new-pass"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert client.get(link).status_code == 404, "a used link works again"
    assert other_device.get("/account/security").status_code == 302
    assert client.post("/login", data={"login": seller.login, "password": PASSWORD}).status_code == 200
    assert (
        client.post("/login", data={"login": seller.login, "password": "brand-new-pass"}).status_code == 302
    )
    reset = db.session.scalar(select(PasswordReset))
    assert reset.used_at is not None and len(reset.token_hash) == 64


def test_the_answer_never_tells_whether_the_login_exists(client, make, smtp, work_jobs):
    make.user(Role.SELLER, login="known@example.com")
    known = _ask(client, "known@example.com")
    unknown = _ask(client, "nobody@example.com")
    phone_only = _ask(client, "+79123456789")
    assert known.status_code == unknown.status_code == phone_only.status_code == 200
    assert _page_text(known) == _page_text(unknown) == _page_text(phone_only)
    work_jobs()
    assert len(smtp.messages) == 1


def test_links_expire_and_are_limited_per_hour(client, make, db, smtp, work_jobs):
    make.user(Role.SELLER, login="olga@example.com")
    for _ in range(RESETS_PER_HOUR + 2):
        _ask(client, "olga@example.com")
    work_jobs()
    assert len(smtp.messages) == RESETS_PER_HOUR
    first = _links(smtp)[0]
    for reset in db.session.scalars(select(PasswordReset)):
        reset.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(first).status_code == 404
    response = client.post(first, data={"password": "brand-new-pass", "password_again": "brand-new-pass"})
    assert response.status_code == 404


def test_a_made_up_link_is_refused(client, db):
    assert client.get("/password/reset/made-up-token").status_code == 404


def test_requests_are_rate_limited_per_address(app, client, db):
    saved = app.config["PASSWORD_RESET_RATE_LIMIT"]
    app.config["PASSWORD_RESET_RATE_LIMIT"] = "2 per minute"
    try:
        statuses = [_ask(client, f"n{n}@example.com").status_code for n in range(3)]
    finally:
        app.config["PASSWORD_RESET_RATE_LIMIT"] = saved
    assert statuses == [200, 200, 429]
