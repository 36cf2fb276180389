"""Server-side sessions: sign-out, blocks, the security page, API tokens, cookie flags."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select

from partner_club.accounts.models import Role, SessionKind, UserSession
from partner_club.accounts.services import block_user, unblock_user
from partner_club.accounts.sessions import device_label
from partner_club.config import from_environment
from partner_club.database import utcnow
from tests.factories import PASSWORD

PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _signed_in(client) -> bool:
    return client.get("/account/security").status_code == 200


def test_sign_out_ends_the_session_for_a_copied_cookie_too(app, client, make, login):
    user = make.user(Role.SELLER)
    login(user)
    copy = app.test_client()
    copy.set_cookie("session", _cookie(client))
    assert _signed_in(copy)
    client.post("/logout")
    assert not _signed_in(client)
    assert not _signed_in(copy), "the cookie copied before sign-out still works"


def test_session_cookie_is_permanent_http_only_and_lax(client, make):
    user = make.user(Role.SELLER)
    response = client.post("/login", data={"login": user.login, "password": PASSWORD})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert "remember_token" not in " ".join(response.headers.getlist("Set-Cookie"))
    stored = client.get_cookie("session")
    assert timedelta(days=29) < stored.expires - utcnow() <= timedelta(days=30, minutes=1)


def test_cookies_are_secure_when_the_public_url_is_https(tmp_path):
    https = from_environment(str(tmp_path), {"PUBLIC_URL": "https://club.example.com"})
    assert https["SESSION_COOKIE_SECURE"] and https["REMEMBER_COOKIE_SECURE"]
    assert https["REMEMBER_COOKIE_DURATION"] == timedelta(days=30)
    assert https["REMEMBER_COOKIE_HTTPONLY"] and https["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    plain = from_environment(str(tmp_path), {"PUBLIC_URL": "http://127.0.0.1:5000"})
    assert not plain["SESSION_COOKIE_SECURE"] and not plain["REMEMBER_COOKIE_SECURE"]


def test_blocking_ends_every_session_and_token_and_unblocking_revives_none(
    app, client, make, db, login, api_token
):
    admin = make.user(Role.ADMIN)
    seller = make.user(Role.SELLER)
    token = api_token(seller)
    login(seller)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    block_user(db.session, seller, reason="Sold codes", actor=admin)
    db.session.commit()
    assert not _signed_in(client)
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    unblock_user(db.session, seller, actor=admin)
    db.session.commit()
    assert not _signed_in(client)
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == seller.id)).all()
    assert len(rows) == 2 and all(row.revoked_at is not None for row in rows)


def test_token_sessions_are_listed_and_revocable(app, client, make, db, login, api_token):
    seller = make.user(Role.SELLER)
    token = api_token(seller)
    login(seller)
    page = client.get("/account/security").get_data(as_text=True)
    assert 'data-session="api"' in page and 'data-session="current"' in page
    api = db.session.scalar(select(UserSession).where(UserSession.kind == SessionKind.API.value))
    assert client.post(f"/account/sessions/{api.id}/end").status_code == 302
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    assert _signed_in(client)


def test_someone_elses_session_cannot_be_ended(client, make, db, login, api_token):
    other = make.user(Role.SELLER)
    api_token(other)
    login(make.user(Role.SELLER))
    theirs = db.session.scalar(select(UserSession.id).where(UserSession.user_id == other.id))
    assert client.post(f"/account/sessions/{theirs}/end").status_code == 404


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(
    app, client, make, db, login, api_token
):
    seller = make.user(Role.SELLER)
    token = api_token(seller)
    other_device = login(seller, to=app.test_client())
    login(seller)
    refused = client.post(
        "/account/security",
        data={"current": "not-my-password", "password": "new-password-1", "password_again": "new-password-1"},
    )
    assert refused.status_code == 200 and _signed_in(other_device)
    changed = client.post(
        "/account/security",
        data={"current": PASSWORD, "password": "new-password-1", "password_again": "new-password-1"},
    )
    assert changed.status_code == 302
    assert _signed_in(client), "the device that changed the password stays signed in"
    assert not _signed_in(other_device)
    assert (
        app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )
    assert client.post("/logout").status_code == 302
    assert client.post("/login", data={"login": seller.login, "password": PASSWORD}).status_code == 200
    assert (
        client.post("/login", data={"login": seller.login, "password": "new-password-1"}).status_code == 302
    )


def test_last_seen_is_kept_without_a_write_per_request(client, make, db, login):
    seller = make.user(Role.SELLER)
    login(seller)
    row = db.session.scalar(select(UserSession))
    seen = row.last_seen_at
    client.get("/account/security")
    db.session.refresh(row)
    assert row.last_seen_at == seen
    row.last_seen_at = utcnow() - timedelta(minutes=11)
    db.session.commit()
    client.get("/account/security")
    db.session.refresh(row)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def _sets_session_cookie(response) -> bool:
    return any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie"))


def test_the_cookie_is_written_on_a_change_and_a_touch_not_on_every_answer(client, make, db, login):
    seller = make.user(Role.SELLER)
    login(seller)
    client.get("/account/security")  # the CSRF token is made once and kept in the session
    assert not _sets_session_cookie(client.get("/account/security"))
    assert not _sets_session_cookie(client.get("/static/css/club.css"))
    row = db.session.scalar(select(UserSession))
    row.last_seen_at = utcnow() - timedelta(minutes=11)
    db.session.commit()
    assert _sets_session_cookie(client.get("/account/security"))  # the 30 days roll on


def test_a_late_answer_to_an_earlier_request_keeps_the_message(app, client, make, login):
    """A page or file asked for before a form was sent, answered after it: it writes no cookie,
    so the form's message ("a new link is ready") is not lost."""
    owner = make.user(Role.OWNER)
    login(owner)
    client.get("/shop/referral")
    before = _cookie(client)
    client.post("/shop/referral", data={"valid_days": 30})
    late = app.test_client()
    late.set_cookie("session", before)
    assert not _sets_session_cookie(late.get("/static/css/club.css"))
    assert not _sets_session_cookie(late.get("/points/"))
    assert 'class="flash flash-success"' in client.get("/shop/referral").get_data(as_text=True)


def test_a_session_unused_for_thirty_days_is_over(client, make, db, login):
    login(make.user(Role.SELLER))
    row = db.session.scalar(select(UserSession))
    row.last_seen_at = utcnow() - timedelta(days=31)
    db.session.commit()
    assert not _signed_in(client)


def test_device_labels_name_browser_and_system_only():
    assert device_label(PHONE) == "Chrome · Android"
    assert device_label("python-requests/2.32") == "python-requests"
    assert device_label("") == "?"


def test_staff_set_a_new_password_from_the_command_line_and_sessions_end(app, client, make, db, login):
    seller = make.user(Role.SELLER, login="+79123456789")
    login(seller)
    result = app.test_cli_runner().invoke(
        args=["users", "set-password", "+7 912 345-67-89"], input="another-pass-1\nanother-pass-1\n"
    )
    assert result.exit_code == 0, result.output
    assert not _signed_in(client)
    assert (
        client.post("/login", data={"login": seller.login, "password": "another-pass-1"}).status_code == 302
    )


def test_a_signed_in_request_reads_person_and_session_in_one_query(app, client, make, db, api_token):
    seller = make.user(Role.SELLER)
    token = api_token(seller)
    db.session.commit()
    db.session.expunge_all()  # nothing in the identity map: the request must load the person
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    sign_in = [s for s in statements if "user_sessions" in s]
    assert len(sign_in) == 1, sign_in
    assert "JOIN user_sessions" in sign_in[0] and "FROM users" in sign_in[0]
