"""Orders moved in bulk: ship, deliver, cancel; all or nothing; on a phone with a confirmation."""

from __future__ import annotations

import pytest

from catalog.bulk_orders import move_orders
from catalog.models import Order
from catalog.services import Item, place_order
from partner_club.errors import Invalid
from partner_club.ledger.services import balance_of
from tests.browser import sign_in
from tests.catalog.conftest import ADDRESS, PHONE


def _orders(db, make, cat, count=3):
    people = [cat.participant(1000) for _ in range(count)]
    mug = cat.prize(points=300, stock=10)
    make.session.flush()
    orders = [
        place_order(db.session, p, [Item(mug.id, 1)], address=ADDRESS, phone=PHONE).order for p in people
    ]
    admin = make.user("admin")
    make.session.commit()
    return people, orders, admin


def test_cancelling_in_bulk_refunds_each_order_and_one_bad_order_moves_nothing(db, make, cat):
    people, orders, admin = _orders(db, make, cat)
    ids = [o.id for o in orders]
    with pytest.raises(Invalid) as refused:  # no tracking number for the last one
        move_orders(db.session, ids, "ship", actor=admin, tracking={ids[0]: "RA-0001", ids[1]: "RA-0002"})
    assert f"{ids[2]}" in refused.value.message
    db.session.rollback()
    assert {db.session.get(Order, i).status for i in ids} == {"placed"}
    moved = move_orders(db.session, ids[:2], "cancel", actor=admin, reason="out of season")
    db.session.commit()
    assert (moved.orders, moved.points) == (2, 600)
    assert [balance_of(db.session, p).active for p in people] == [1000, 1000, 700]


def test_an_admin_ships_then_delivers_two_orders_at_once_on_a_phone(phone, db, make, cat, screenshot):
    _people, orders, admin = _orders(db, make, cat)
    first, second, third = (o.id for o in orders)
    sign_in(phone, admin.login)
    phone.goto("/prizes/admin/orders")
    box = phone.locator(f"tr[data-order='{first}'] .pick").bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    phone.check(f"input[name=order][value='{first}']")
    phone.check(f"input[name=order][value='{second}']")
    phone.select_option("#bulk-action", "ship")
    phone.click(".orders-bulk button[type=submit]")
    confirm = phone.locator(".orders-bulk-confirm")
    assert confirm.get_attribute("data-orders") == "2"
    phone.fill(f"#tracking_{first}", "RA-0001")
    phone.fill(f"#tracking_{second}", "RA-0002")
    screenshot(phone, "confirm-ship")
    phone.click(".orders-bulk-confirm button.primary")
    phone.wait_for_selector(".flash-success")
    assert "2" in phone.inner_text(".flash-success")
    db.session.expire_all()
    assert [db.session.get(Order, i).status for i in (first, second, third)] == [
        "shipped",
        "shipped",
        "placed",
    ]
    assert db.session.get(Order, first).tracking_number == "RA-0001"
    phone.check(f"input[name=order][value='{first}']")
    phone.check(f"input[name=order][value='{second}']")
    phone.select_option("#bulk-action", "deliver")
    phone.click(".orders-bulk button[type=submit]")
    phone.click(".orders-bulk-confirm button.primary")
    phone.wait_for_selector(".flash-success")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    db.session.expire_all()
    assert [db.session.get(Order, i).status for i in (first, second)] == ["delivered", "delivered"]
