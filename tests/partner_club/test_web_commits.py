"""`@commits`: one commit on success; a domain error rolls back and is answered; queued mail
goes only after the commit (a real SMTP server listens)."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages
from sqlalchemy import func, select

from partner_club.accounts.models import Role
from partner_club.errors import Conflict
from partner_club.notifications.services import Message, send_after_commit
from partner_club.regions.models import Region
from partner_club.web import commits, refuse
from tests.factories import Factories
from tests.partner_club.test_notifications import smtp  # noqa: F401  (the fixture)


def _regions(db) -> int:
    """Counted on a connection of its own: only committed rows are seen."""
    with db.engine.connect() as other:
        return other.scalar(select(func.count()).select_from(Region))


def _write(db, *, fail: bool) -> str:
    Factories(db.session).region()
    send_after_commit(db.session, Message(to="rep@example.com", subject="Saved", text="t"))
    if fail:
        raise Conflict("This region exists already.")
    return "done"


def test_success_commits_once_then_sends(app, db, smtp):  # noqa: F811
    view = commits(lambda: _write(db, fail=False))
    with app.test_request_context("/admin/territories", method="POST"):
        assert view() == "done"
    assert _regions(db) == 1
    assert [m["Subject"] for m in smtp.messages] == ["Saved"]


def test_page_refusal_rolls_back_flashes_and_sends_nothing(app, db, smtp):  # noqa: F811
    view = commits(back="admin.territories")(lambda: _write(db, fail=True))
    with app.test_request_context("/admin/territories", method="POST"):
        response = view()
        assert response.status_code == 302
        assert response.location.endswith("/admin/territories")
        assert get_flashed_messages(with_categories=True) == [("error", "This region exists already.")]
    db.session.commit()  # a later commit of the same session finds nothing queued
    assert _regions(db) == 0
    assert smtp.messages == []


def test_api_refusal_rolls_back_and_answers_problem_json(app, db, smtp, make, api_token, client):  # noqa: F811
    view = commits(back="admin.territories")(lambda: _write(db, fail=True))
    # In an API blueprint `back` is ignored: the error goes on to the blueprint's handler.
    with app.test_request_context("/api/v1/auth/token", method="POST"), pytest.raises(Conflict):
        view()
    assert _regions(db) == 0
    assert smtp.messages == []
    # The same path end to end: an API handler under @commits refusing.
    admin = make.user(role=Role.ADMIN)
    db.session.commit()
    answer = client.post(
        "/api/v1/admin/campaigns/999999/launch", headers={"Authorization": f"Bearer {api_token(admin)}"}
    )
    assert answer.status_code == 404
    assert answer.mimetype == "application/problem+json"


def test_view_that_shows_the_refusal_itself_commits_nothing(app, db, smtp):  # noqa: F811
    def view():
        try:
            return _write(db, fail=True)
        except Conflict as error:
            return refuse(error)

    with app.test_request_context("/admin/territories", method="POST"):
        assert commits(view)() == "This region exists already."
    assert _regions(db) == 0
    assert smtp.messages == []
