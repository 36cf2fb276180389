"""Placing orders: stock and points together, all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from catalog import services
from catalog.models import DeliveryAddress, Order, OrderStatus
from catalog.services import Item, OutOfStock, place_order
from partner_club.accounts.models import Role
from partner_club.audit.models import AuditEntry
from partner_club.errors import Forbidden, Invalid
from partner_club.ledger.models import LedgerEntry
from partner_club.ledger.services import InsufficientPoints, balance_of
from tests.catalog.conftest import ADDRESS, PHONE, points_check


def test_order_takes_stock_and_points_and_saves_the_address(db, cat):
    person = cat.participant(1000)
    mug = cat.prize(points=300, stock=5)
    placed = place_order(db.session, person, [Item(mug.id, 2)], address=ADDRESS, phone=PHONE)
    db.session.commit()
    order = placed.order
    assert not placed.replay and order.status == "placed" and order.points == 600
    assert mug.stock == 3
    assert balance_of(db.session, person).active == 400
    saved = db.session.scalar(select(DeliveryAddress).where(DeliveryAddress.user_id == person.id))
    assert saved.address == ADDRESS and saved.phone == "+79123456789"
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.cause_type == "order"))
    assert entry.amount == -600 and entry.cause_id == str(order.id)
    assert (
        db.session.scalar(select(AuditEntry.action).where(AuditEntry.object_id == str(order.id)))
        == "catalog.order_placed"
    )


def test_more_than_the_balance_writes_nothing(db, cat):
    person = cat.participant(100)
    mug = cat.prize(points=300, stock=5)
    db.session.commit()
    with pytest.raises(InsufficientPoints) as refused:
        place_order(db.session, person, [Item(mug.id, 1)], address=ADDRESS, phone=PHONE)
    db.session.rollback()
    assert refused.value.status == 409 and "300" in refused.value.message
    assert db.session.scalar(select(func.count(Order.id))) == 0
    assert db.session.get(type(mug), mug.id).stock == 5
    assert balance_of(db.session, person).active == 100


def test_more_than_the_stock_is_refused_with_what_is_left(db, cat):
    person = cat.participant(10000)
    mug = cat.prize(points=10, stock=2)
    db.session.commit()
    with pytest.raises(OutOfStock) as refused:
        place_order(db.session, person, [Item(mug.id, 3)], address=ADDRESS, phone=PHONE)
    db.session.rollback()
    assert refused.value.code == "out_of_stock" and refused.value.details["available"] == 2
    assert "2" in refused.value.message
    assert balance_of(db.session, person).active == 10000


def test_prize_of_another_region_or_role_is_not_available(db, make, cat):
    person = cat.participant(1000)
    elsewhere = cat.prize(regions=[make.region()])
    owners_only = cat.prize(roles=[Role.OWNER])
    mine = cat.prize(regions=[person.outlet.region])
    visible = {p.id for p in services.search_catalog(db.session, person)}
    assert visible == {mine.id}
    for prize in (elsewhere, owners_only):
        with pytest.raises(Invalid) as refused:
            place_order(db.session, person, [Item(prize.id, 1)], address=ADDRESS, phone=PHONE)
        assert refused.value.code == "prize_not_available"


@pytest.mark.parametrize(
    ("address", "phone", "code"),
    [
        ("Kazan", PHONE, "bad_address"),
        ("Kazan, Baumana street, flat", PHONE, "bad_address"),
        (ADDRESS, "12345", "bad_phone"),
        (ADDRESS, "", "bad_phone"),
    ],
)
def test_incomplete_delivery_is_refused(db, cat, address, phone, code):
    person = cat.participant(1000)
    mug = cat.prize()
    with pytest.raises(Invalid) as refused:
        place_order(db.session, person, [Item(mug.id, 1)], address=address, phone=phone)
    assert refused.value.code == code


def test_second_click_with_the_same_key_returns_the_first_order(db, cat):
    person = cat.participant(1000)
    mug = cat.prize(points=100, stock=5)
    first = place_order(
        db.session, person, [Item(mug.id, 1)], address=ADDRESS, phone=PHONE, idempotency_key="click-1"
    )
    db.session.commit()
    second = place_order(
        db.session, person, [Item(mug.id, 1)], address=ADDRESS, phone=PHONE, idempotency_key="click-1"
    )
    db.session.commit()
    assert second.replay and second.order.id == first.order.id
    assert db.session.scalar(select(func.count(Order.id))) == 1
    assert mug.stock == 4 and balance_of(db.session, person).active == 900


def test_parse_items_merges_and_checks(db):
    assert services.parse_items([{"prize": 2, "quantity": 1}, {"prize": 2, "quantity": 2}]) == [Item(2, 3)]
    for bad in ([], None, [{"prize": "x"}], [{"prize": 1, "quantity": 0}], [{"prize": 1, "quantity": 99}]):
        with pytest.raises(Invalid):
            services.parse_items(bad)


def test_staff_cannot_order(db, make, cat):
    mug = cat.prize()
    with pytest.raises(Forbidden):
        place_order(db.session, make.user(Role.ADMIN), [Item(mug.id, 1)], address=ADDRESS, phone=PHONE)


def test_status_flow_and_cancel_refunds(app, db, make, cat):
    admin = make.user(Role.ADMIN)
    person = cat.participant(1000)
    mug = cat.prize(points=250, stock=3)
    order = place_order(db.session, person, [Item(mug.id, 2)], address=ADDRESS, phone=PHONE).order
    services.confirm_order(db.session, order.id, actor=admin)
    with pytest.raises(Invalid):
        services.ship_order(db.session, order.id, tracking_number=" ", actor=admin)
    services.ship_order(db.session, order.id, tracking_number="RA123456789RU", actor=admin)
    services.deliver_order(db.session, order.id, actor=admin)
    assert order.status == "delivered" and order.tracking_number == "RA123456789RU"
    with pytest.raises(services.Conflict):
        services.cancel_order(db.session, order.id, reason="late", actor=admin)
    other = place_order(db.session, person, [Item(mug.id, 1)], address=ADDRESS, phone=PHONE).order
    assert balance_of(db.session, person).active == 250 and mug.stock == 0
    with pytest.raises(Invalid):
        services.cancel_order(db.session, other.id, reason="  ", actor=admin)
    services.cancel_order(db.session, other.id, reason="Out of mugs", actor=admin)
    db.session.commit()
    db.session.refresh(mug)
    assert other.status == OrderStatus.CANCELLED.value and other.cancel_reason == "Out of mugs"
    assert balance_of(db.session, person).active == 500 and mug.stock == 1
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "Order").order_by(AuditEntry.id)
    ).all()
    assert actions == [
        "catalog.order_placed",
        "catalog.order_confirmed",
        "catalog.order_shipped",
        "catalog.order_delivered",
        "catalog.order_placed",
        "catalog.order_cancelled",
    ]
    points_check(app)
