"""The in-app list page, its click-through, and the unread badge on every page."""

from __future__ import annotations

from sqlalchemy import select

from partner_club.accounts.models import Role
from partner_club.notifications.models import Delivery, Notification
from partner_club.notifications.services import Kind, notify, register_kind

register_kind(Kind(name="test.page_order", group="orders", title="Order %(number)s confirmed"))


def test_the_list_shows_newest_first_marks_unread_and_reads_all(client, db, make, login):
    person = make.user(Role.SELLER, locale="en")
    first = notify(
        db.session, person.id, "test.page_order", params={"number": "A-1"}, link="/catalog/orders/1"
    )
    second = notify(db.session, person.id, "test.page_order", params={"number": "A-2"})
    db.session.commit()
    login(person)
    page = client.get("/notifications/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert page.index("Order A-2 confirmed") < page.index("Order A-1 confirmed")
    assert page.count('class="notice unread"') == 2
    assert f"/notifications/{first.id}/open" in page and f"/notifications/{second.id}/open" in page
    assert 'class="bell-count" aria-hidden="true">2<' in page
    assert client.post("/notifications/read").status_code == 302
    page = client.get("/notifications/").get_data(as_text=True)
    assert 'class="notice unread"' not in page and "bell-count" not in page


def test_opening_marks_read_and_goes_to_the_page(client, db, make, login):
    person, other = make.user(Role.SELLER), make.user(Role.SELLER)
    note = notify(
        db.session, person.id, "test.page_order", params={"number": "A-3"}, link="/catalog/orders/3"
    )
    db.session.add(Delivery(notification=note, channel="email", status="sent"))
    theirs = notify(db.session, other.id, "test.page_order", params={"number": "B-1"})
    db.session.commit()
    login(person)
    answer = client.get(f"/notifications/{note.id}/open?via=email")
    assert answer.status_code == 302 and answer.headers["Location"] == "/catalog/orders/3"
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at is not None
    assert (
        db.session.scalars(
            select(Delivery.opened_at).where(Delivery.notification_id == note.id, Delivery.channel == "email")
        ).one()
        is not None
    )
    assert client.get(f"/notifications/{theirs.id}/open").status_code == 404
    assert db.session.get(Notification, theirs.id).read_at is None


def test_the_badge_is_on_every_page_of_a_signed_in_person(client, db, make, login):
    person = make.user(Role.SELLER)
    notify(db.session, person.id, "test.page_order", params={"number": "A-4"})
    db.session.commit()
    assert "bell-count" not in client.get("/login").get_data(as_text=True)
    login(person)
    for path in ("/", "/points/"):
        assert 'class="bell-count" aria-hidden="true">1<' in client.get(path).get_data(as_text=True), path
