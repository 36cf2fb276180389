"""The support desk's rules: opening, answering, reopening, scope, pace and pictures."""

from __future__ import annotations

import io

import pytest
from flask_babel import force_locale
from PIL import Image
from sqlalchemy import select

from partner_club.accounts.models import Role
from partner_club.errors import Invalid, NotFound, TooManyAttempts
from partner_club.notifications.models import Notification
from partner_club.notifications.services import render
from partner_club.support import services
from partner_club.support.models import Status
from partner_club.support.photos import clean_picture
from tests.support.helpers import jpeg_with_gps, png, png_header_only

LIMIT = 1024 * 1024


def _open(db, author, text="The code on the bag does not register", **kw):
    return services.open_ticket(
        db.session, author, topic=kw.pop("topic", "code"), text=text, max_photo_bytes=LIMIT, **kw
    )


def _notes(db, user):
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id)).all()


def test_a_ticket_tells_the_staff_whose_scope_covers_it(db, make):
    rep, _, shop = make.rep_with_outlet()
    other_rep, _, _ = make.rep_with_outlet()
    admin = make.user(Role.ADMIN)
    manager = make.user(Role.REGIONAL_MANAGER, region_id=shop.region_id)
    seller = make.user(Role.SELLER, outlet=shop)
    ticket = _open(db, seller, page="/codes/register")
    assert ticket.status == Status.NEW.value and ticket.outlet_id == shop.id
    assert ticket.page == "/codes/register"
    for person in (rep, admin, manager):
        (note,) = _notes(db, person)
        assert note.kind == "support.new" and note.link == f"/support/{ticket.id}"
    assert _notes(db, other_rep) == [] and _notes(db, seller) == []


def test_staff_answer_reaches_the_author_in_their_language(db, make):
    rep, _, shop = make.rep_with_outlet()
    seller = make.user(Role.SELLER, outlet=shop, locale="en")
    ticket = _open(db, seller)
    services.add_message(
        db.session, rep, ticket, text="Send us a photo of the code, please.", max_photo_bytes=LIMIT
    )
    assert ticket.status == Status.WAITING.value
    assert ticket.first_answered_at is not None and ticket.assignee_id == rep.id
    (note,) = _notes(db, seller)
    assert note.kind == "support.answered" and note.link == f"/support/{ticket.id}"
    assert render(note, "en") == (
        f"Answer to your request #{ticket.id}",
        "Send us a photo of the code, please.",
    )
    assert render(note, "ru")[0] == f"Ответ на ваше обращение №{ticket.id}"


def test_the_author_reopens_a_resolved_ticket_by_replying(db, make):
    rep, _, shop = make.rep_with_outlet()
    seller = make.user(Role.SELLER, outlet=shop)
    ticket = _open(db, seller)
    services.add_message(db.session, rep, ticket, text="Done.", max_photo_bytes=LIMIT, resolve=True)
    assert ticket.status == Status.RESOLVED.value and ticket.resolved_at is not None
    first = ticket.first_answered_at
    services.add_message(db.session, seller, ticket, text="It happened again", max_photo_bytes=LIMIT)
    assert ticket.status == Status.IN_PROGRESS.value and ticket.resolved_at is None
    assert ticket.first_answered_at == first
    assert [n.kind for n in _notes(db, rep)] == ["support.new", "support.replied"]


def test_nobody_else_reads_a_ticket(db, make):
    rep, _, shop = make.rep_with_outlet()
    seller = make.user(Role.SELLER, outlet=shop)
    ticket = _open(db, seller)
    other_seller = make.user(Role.SELLER, outlet=shop)
    other_rep, _, _ = make.rep_with_outlet()
    elsewhere = make.user(Role.REGIONAL_MANAGER, region_id=make.region().id)
    for stranger in (other_seller, other_rep, elsewhere):
        with pytest.raises(NotFound):
            services.ticket_for(db.session, stranger, ticket.id)
        with pytest.raises(NotFound):
            services.add_message(db.session, stranger, ticket, text="hi", max_photo_bytes=LIMIT)
    assert services.ticket_for(db.session, rep, ticket.id) is ticket
    assert services.ticket_for(db.session, make.user(Role.HEAD_OFFICE), ticket.id) is ticket


def test_the_queue_is_the_scope_oldest_waiting_first(db, make):
    rep, territory, shop = make.rep_with_outlet()
    first = _open(db, make.user(Role.SELLER, outlet=shop), "first")
    second = _open(db, make.user(Role.OWNER, outlet=make.outlet(territory=territory)), "second")
    _open(db, make.user(Role.SELLER), "elsewhere")
    first.waiting_since, second.waiting_since = second.waiting_since, first.waiting_since
    db.session.flush()
    queue = services.staff_queue(db.session, rep, services.QueueFilter())
    assert [t.id for t in queue] == [second.id, first.id]
    assert services.waiting_count(db.session, rep) == 2
    services.take(db.session, rep, first)
    assert first.status == Status.IN_PROGRESS.value
    assert [t.id for t in services.staff_queue(db.session, rep, services.QueueFilter(mine=True))] == [
        first.id
    ]
    assert [t.id for t in services.staff_queue(db.session, rep, services.QueueFilter(unassigned=True))] == [
        second.id
    ]
    admin = make.user(Role.ADMIN)
    assert len(services.staff_queue(db.session, admin, services.QueueFilter())) == 3


def test_new_tickets_are_paced_per_person(db, make):
    seller = make.user(Role.SELLER)
    for n in range(services.TICKETS_PER_HOUR):
        _open(db, seller, f"question {n}")
    with pytest.raises(TooManyAttempts):
        _open(db, seller, "one more")
    _open(db, make.user(Role.SELLER), "someone else may")


def test_a_participants_replies_are_paced_and_staff_answers_are_not(db, make, monkeypatch):
    monkeypatch.setattr(services, "REPLIES_PER_HOUR", 3)
    seller = make.user(Role.SELLER)
    ticket = _open(db, seller, "question")  # the first message counts too
    for n in range(2):
        services.add_message(db.session, seller, ticket, text=f"more {n}", max_photo_bytes=LIMIT)
    with pytest.raises(TooManyAttempts) as refused, force_locale("en"):
        services.add_message(db.session, seller, ticket, text="and more", max_photo_bytes=LIMIT)
    assert "wait for the answer" in refused.value.message
    rep = make.user(Role.ADMIN)
    for n in range(4):
        services.add_message(db.session, rep, ticket, text=f"answer {n}", max_photo_bytes=LIMIT)


def test_pictures_are_checked_by_content_and_kept_without_metadata(db, make):
    seller = make.user(Role.SELLER)
    ticket = _open(db, seller, photo=jpeg_with_gps())
    photo = ticket.messages[0].photo
    kept = Image.open(io.BytesIO(photo.data))
    assert kept.format == "JPEG" and photo.mimetype == "image/jpeg"
    assert not kept.getexif() and b"SecretCam" not in photo.data
    assert _open(db, seller, photo=png()).messages[0].photo.mimetype == "image/png"
    with pytest.raises(Invalid) as refused:
        _open(db, seller, photo=b"just some text, renamed to .png\n")
    assert refused.value.code == "not_an_image" and "не изображение" in refused.value.message
    with pytest.raises(Invalid) as refused:
        services.open_ticket(db.session, seller, topic="other", text="big", photo=png(), max_photo_bytes=50)
    assert refused.value.code == "file_too_large"


def test_a_picture_of_more_than_25_megapixels_is_refused_before_it_is_unpacked(db):
    with pytest.raises(Invalid) as refused, force_locale("en"):
        clean_picture(png_header_only(6000, 5000), max_bytes=10**6)  # 30 megapixels
    assert refused.value.code == "too_many_pixels" and "at most 25 megapixels" in refused.value.message


def test_empty_text_and_unknown_topic_are_refused(db, make):
    seller = make.user(Role.SELLER)
    with pytest.raises(Invalid, match="Напишите ваш вопрос"):
        _open(db, seller, "   ")
    with pytest.raises(Invalid):
        _open(db, seller, topic="gossip")


def test_only_a_path_on_the_site_is_kept_as_the_page(db, make):
    seller = make.user(Role.SELLER)
    assert _open(db, seller, page="https://evil.example/x").page is None
    assert _open(db, seller, page="//evil.example/x").page is None


def test_staff_read_a_new_ticket_in_their_own_language(db, make):
    admin = make.user(Role.ADMIN, locale="en")
    seller = make.user(Role.SELLER, locale="ru")
    ticket = _open(db, seller, "Где мой приз?", topic="prize")
    (note,) = _notes(db, admin)
    assert render(note, "en") == (f"New request #{ticket.id}: Prize or order", "Где мой приз?")
    assert render(note, "ru")[0] == f"Новое обращение №{ticket.id}: Приз или заказ"
