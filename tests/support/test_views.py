"""The support desk's pages: the form from any page, the thread, the queue, the pictures."""

from __future__ import annotations

import io

from sqlalchemy import select

from partner_club.accounts.models import Role
from partner_club.support.models import Status, Ticket
from tests.support.helpers import png


def _send(client, **fields):
    data = {"topic": "feedback", "text": "The scanner is great", "page": "/codes/register", **fields}
    return client.post("/support/new", data=data, content_type="multipart/form-data")


def test_the_help_link_names_the_page_it_is_on(client, make, login):
    login(make.user(Role.SELLER))
    page = client.get("/prizes/?q=tea").get_data(as_text=True)
    assert "/support/new?from=/prizes/?q%3Dtea" in page or "/support/new?from=%2Fprizes%2F%3Fq%3Dtea" in page
    form = client.get("/support/new?from=/prizes/?q=tea").get_data(as_text=True)
    assert 'value="/prizes/?q=tea"' in form


def test_a_seller_sends_feedback_with_a_screenshot_and_sees_the_thread(client, db, make, login):
    seller = make.user(Role.SELLER)
    login(seller)
    response = _send(client, photo=(io.BytesIO(png()), "screen.png"))
    assert response.status_code == 302
    ticket = db.session.scalar(select(Ticket))
    assert response.headers["Location"].endswith(f"/support/{ticket.id}")
    page = client.get(f"/support/{ticket.id}").get_data(as_text=True)
    assert "The scanner is great" in page
    photo_id = ticket.messages[0].photo.id
    picture = client.get(f"/support/photos/{photo_id}")
    assert picture.status_code == 200 and picture.mimetype == "image/png"
    assert "no-store" in picture.headers["Cache-Control"]
    assert f"#{ticket.id}" in client.get("/support/").get_data(as_text=True)


def test_a_text_file_renamed_png_is_refused_with_a_clear_message(client, db, make, login):
    login(make.user(Role.SELLER))
    response = _send(client, photo=(io.BytesIO(b"hello, this is text"), "screen.png"))
    assert response.status_code == 415
    assert "не изображение" in response.get_data(as_text=True)
    assert db.session.scalar(select(Ticket)) is None


def test_an_upload_over_the_limit_is_refused(app, client, db, make, login):
    login(make.user(Role.SELLER))
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 20_000
    try:
        response = _send(client, photo=(io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 30_000), "big.png"))
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert response.status_code == 413
    assert "слишком большое" in response.get_data(as_text=True)
    assert db.session.scalar(select(Ticket)) is None


def test_others_get_404_for_a_ticket_and_its_picture(app, client, db, make, login):
    rep, _, shop = make.rep_with_outlet()
    seller = make.user(Role.SELLER, outlet=shop)
    login(seller)
    _send(client, photo=(io.BytesIO(png()), "s.png"))
    ticket = db.session.scalar(select(Ticket))
    photo_id = ticket.messages[0].photo.id
    for stranger in (make.user(Role.SELLER, outlet=shop), make.rep_with_outlet()[0]):
        other = login(stranger, to=app.test_client())
        assert other.get(f"/support/{ticket.id}").status_code == 404
        assert other.get(f"/support/photos/{photo_id}").status_code == 404
        assert other.post(f"/support/{ticket.id}", data={"text": "x"}).status_code == 404
    assert login(rep, to=app.test_client()).get(f"/support/photos/{photo_id}").status_code == 200


def test_staff_take_answer_and_the_queue(app, client, db, make, login):
    rep, _, shop = make.rep_with_outlet()
    seller = make.user(Role.SELLER, outlet=shop)
    login(seller)
    _send(client, text="Where is my order?", topic="prize")
    ticket = db.session.scalar(select(Ticket))
    seller_client, client = client, login(rep, to=app.test_client())
    queue = client.get("/support/queue").get_data(as_text=True)
    assert "Where is my order?" in queue and "ответа ещё нет" in queue
    assert client.post(f"/support/{ticket.id}/take").status_code == 302
    db.session.refresh(ticket)
    assert ticket.status == Status.IN_PROGRESS.value and ticket.assignee_id == rep.id
    client.post(f"/support/{ticket.id}", data={"text": "It ships tomorrow.", "resolve": "y"})
    db.session.refresh(ticket)
    assert ticket.status == Status.RESOLVED.value and ticket.first_answered_at is not None
    assert "Where is my order?" not in client.get("/support/queue").get_data(as_text=True)
    assert "Where is my order?" in client.get("/support/queue?status=resolved").get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert "Вопросы ждут ответа" in home
    assert seller_client.post(f"/support/{ticket.id}/take").status_code == 403
