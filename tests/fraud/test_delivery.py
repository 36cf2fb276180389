"""Shared delivery address or phone at prize time."""
from __future__ import annotations

from flask_babel import force_locale

from fraud.delivery import check_delivery
from partner_club.extensions import db as _db


def order(session, user, address, phone):
    table = _db.metadata.tables["prize_orders"]
    session.execute(table.insert().values(user_id=user.id, status="placed", points=100, value_kopecks=0,
                                          address=address, phone=phone))


def test_many_accounts_behind_one_phone_are_held_at_prize_time(db, make):
    people = [make.user("seller") for _ in range(4)]
    order(db.session, people[0], "Kazan, Lenina 5, apt 12", "+7 912 345-67-89")
    assert check_delivery(db.session, people[1].id, address="Moscow, Tverskaya 1",
                          phone="8 (912) 345 67 89").decision == "accept"  # two accounts: fine
    order(db.session, people[1], "Moscow, Tverskaya 1", "89123456789")
    with force_locale("en"):
        third = check_delivery(db.session, people[2].id, address="kazan lenina 5 apt 12", phone="+7 912 3456789")
    assert third.decision == "hold" and third.score == 45
    assert third.reasons[0].message == "This delivery address or phone is used by 3 accounts."
    assert third.reasons[0].evidence == {"accounts": 3, "phone": 2, "address": 1}
    alone = check_delivery(db.session, people[3].id, address="Omsk, Mira 9", phone="+79001112233")
    assert alone.decision == "accept" and not alone.reasons
