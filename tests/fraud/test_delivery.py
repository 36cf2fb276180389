"""Shared delivery address or phone at prize time."""

from __future__ import annotations

from flask_babel import force_locale

from catalog.models import Category, Prize
from catalog.services import Item, place_order
from fraud.delivery import check_delivery
from partner_club.extensions import db as _db
from partner_club.ledger.services import account_for_user, accrue


def order(session, user, address, phone):
    table = _db.metadata.tables["prize_orders"]
    session.execute(
        table.insert().values(
            user_id=user.id, status="placed", points=100, value_kopecks=0, address=address, phone=phone
        )
    )


def test_many_accounts_behind_one_phone_are_held_at_prize_time(db, make):
    people = [make.user("seller") for _ in range(4)]
    order(db.session, people[0], "Kazan, Lenina 5, apt 12", "+7 912 345-67-89")
    assert (
        check_delivery(
            db.session, people[1].id, address="Moscow, Tverskaya 1", phone="8 (912) 345 67 89"
        ).decision
        == "accept"
    )  # two accounts: fine
    order(db.session, people[1], "Moscow, Tverskaya 1", "89123456789")
    with force_locale("en"):
        third = check_delivery(
            db.session, people[2].id, address="kazan lenina 5 apt 12", phone="+7 912 3456789"
        )
    assert third.decision == "hold" and third.score == 45
    assert third.reasons[0].message == "This delivery address or phone is used by 3 accounts."
    assert third.reasons[0].evidence == {"accounts": 3, "phone": 2, "address": 1}
    alone = check_delivery(db.session, people[3].id, address="Omsk, Mira 9", phone="+79001112233")
    assert alone.decision == "accept" and not alone.reasons


def test_a_prize_order_to_a_shared_phone_waits_for_a_look(db, make, client, login):
    """Through the core's order_checks signal: the catalog asks, fraud answers."""
    category = Category(slug="mugs", kind="branded", name_en="Mugs", name_ru="Кружки")
    db.session.add(category)
    db.session.flush()
    mug = Prize(
        category_id=category.id,
        name_en="Mug",
        name_ru="Кружка",
        points=10,
        value_kopecks=100,
        stock=10,
        provider="warehouse",
        provider_sku="MUG",
    )
    db.session.add(mug)
    people = [make.user("seller") for _ in range(3)]
    for person in people:
        accrue(
            db.session,
            account_for_user(db.session, person),
            100,
            cause_type="adjustment",
            cause_id=None,
            kind="adjustment",
        )
    orders = [
        place_order(
            db.session, person, [Item(mug.id, 1)], address=f"Kazan, Lenina {n}", phone="+7 912 345-67-89"
        ).order
        for n, person in enumerate(people)
    ]
    db.session.commit()
    assert [o.review_note is not None for o in orders] == [False, False, True]
    admin = make.user("admin")
    db.session.commit()
    login(admin)
    page = client.get(f"/prizes/admin/orders/{orders[2].id}", headers={"Accept-Language": "en"})
    assert "Check before confirming:" in page.get_data(as_text=True)
