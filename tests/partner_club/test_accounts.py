"""Accounts: blocking, unblocking, sign-in refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from partner_club.accounts.models import Role, User, UserStatus
from partner_club.accounts.services import authenticate, block_user, unblock_user
from partner_club.audit.models import AuditEntry
from partner_club.errors import Forbidden, Invalid
from tests.factories import PASSWORD


@pytest.fixture
def ctx(app, db):
    """Services translate their messages: they run inside a request in real life."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def test_block_bumps_token_version_and_audits(make, db, ctx):
    admin = make.user(Role.ADMIN)
    seller = make.user(Role.SELLER)
    before = seller.token_version
    block_user(db.session, seller, reason="Sold codes to strangers", actor=admin)
    assert seller.status == UserStatus.BLOCKED.value
    assert seller.token_version == before + 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.block"))
    assert entry.actor_id == admin.id and entry.object_id == str(seller.id)
    assert entry.details["reason"] == "Sold codes to strangers"
    with pytest.raises(Forbidden) as refused:
        authenticate(db.session, seller.login, PASSWORD)
    assert "Sold codes to strangers" in refused.value.message


def test_unblock_lets_the_person_back_in(make, db, ctx):
    admin = make.user(Role.ADMIN)
    seller = make.user(Role.SELLER)
    block_user(db.session, seller, reason="Check", actor=admin)
    version = seller.token_version
    unblock_user(db.session, seller, actor=admin)
    assert seller.status == UserStatus.ACTIVE.value and seller.blocked_reason is None
    assert seller.token_version == version + 1
    assert authenticate(db.session, seller.login, PASSWORD) is seller
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["user.block", "user.unblock"]


def test_block_needs_a_reason_and_not_oneself(make, db, ctx):
    admin = make.user(Role.ADMIN)
    with pytest.raises(Invalid):
        block_user(db.session, make.user(Role.SELLER), reason="  ", actor=admin)
    with pytest.raises(Forbidden):
        block_user(db.session, admin, reason="oops", actor=admin)


def test_blocked_person_sees_reason_and_their_rep_on_login_page(client, make, db):
    admin = make.user(Role.ADMIN)
    rep, _territory, outlet = make.rep_with_outlet()
    seller = make.user(Role.SELLER, outlet=outlet)
    block_user(db.session, seller, reason="Проверка чеков", actor=admin)
    make.session.commit()
    response = client.post(
        "/login", data={"login": seller.login, "password": PASSWORD}, headers={"Accept-Language": "ru"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Проверка чеков" in page and "заблокирован" in page
    assert rep.full_name in page and rep.login in page


def test_blocked_person_loses_open_session_and_token(client, make, db, login, api_token):
    admin = make.user(Role.ADMIN)
    seller = make.user(Role.SELLER)
    make.session.commit()
    token = api_token(seller)
    login(seller)
    assert client.get("/").status_code == 200
    block_user(db.session, seller, reason="Check", actor=admin)
    db.session.commit()
    assert client.get("/").status_code == 302
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_login_is_rate_limited(app, client, make, db):
    user = make.user(Role.SELLER)
    make.session.commit()
    # Fixed windows: 7 tries spread over at most two windows put 4 in one of them.
    previous, app.config["LOGIN_RATE_LIMIT"] = app.config["LOGIN_RATE_LIMIT"], "3 per minute"
    try:
        codes = [
            client.post("/login", data={"login": user.login, "password": "wrong-pass-1"}).status_code
            for _ in range(7)
        ]
    finally:
        app.config["LOGIN_RATE_LIMIT"] = previous
    assert codes[0] == 200 and 429 in codes and set(codes) == {200, 429}


def test_cli_creates_blocks_and_unblocks(app, make, db):
    outlet = make.outlet()
    make.session.commit()
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "owner",
            "--login",
            "+7 912 111-22-33",
            "--password",
            "long-enough-1",
            "--outlet",
            outlet.external_id,
        ]
    )
    assert created.exit_code == 0, created.output
    refused = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "seller",
            "--login",
            "x@example.com",
            "--password",
            "long-enough-1",
        ]
    )
    assert refused.exit_code != 0 and "--outlet" in refused.output
    blocked = runner.invoke(args=["users", "block", "+79121112233", "--reason", "Audit"])
    assert blocked.exit_code == 0, blocked.output
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.login == "+79121112233"))
    assert user.is_blocked and user.blocked_reason == "Audit"
    assert runner.invoke(args=["users", "unblock", "+79121112233"]).exit_code == 0
    db.session.expire_all()
    assert not db.session.get(User, user.id).is_blocked
    assert runner.invoke(args=["users", "block", "nobody@example.com", "--reason", "x"]).exit_code != 0


def test_unblocking_a_pending_seller_keeps_them_waiting_for_the_owner(make, db, ctx):
    admin = make.user(Role.ADMIN)
    seller = make.user(Role.SELLER, status=UserStatus.PENDING.value)
    block_user(db.session, seller, reason="Check", actor=admin)
    block_user(db.session, seller, reason="Still checking", actor=admin)  # a second block keeps the memory
    unblock_user(db.session, seller, actor=admin)
    assert seller.status == UserStatus.PENDING.value and seller.is_pending
