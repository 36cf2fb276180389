"""Many buyers of the last items at once, on PostgreSQL: never oversold, never overdrawn."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from catalog.models import Order, OrderLine, Prize
from catalog.services import Item, place_order
from partner_club.accounts.models import User
from partner_club.errors import Conflict
from partner_club.extensions import db as _db
from partner_club.ledger.models import Account, LedgerEntry, PointLot
from tests.catalog.conftest import ADDRESS, PHONE, points_check

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def postgres_only(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are what is tested: PostgreSQL only (TEST_DATABASE_URL)")


def _race(app, attempts: list[tuple[int, list[Item]]]) -> list[str]:
    """Runs every (user id, items) order in its own thread and transaction, all released at once."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = [""] * len(attempts)

    def buy(index: int, user_id: int, items: list[Item]) -> None:
        with app.app_context():
            session = _db.session
            try:
                user = session.get(User, user_id)
                barrier.wait(timeout=30)
                place_order(session, user, items, address=ADDRESS, phone=PHONE)
                session.commit()
                outcomes[index] = "ok"
            except Conflict as error:
                session.rollback()
                outcomes[index] = error.code
            except Exception as error:  # recorded, so the test shows it
                session.rollback()
                outcomes[index] = f"error: {error!r}"
            finally:
                session.remove()

    threads = [threading.Thread(target=buy, args=(i, uid, items)) for i, (uid, items) in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def _ledger_agrees(app, session) -> None:
    """The reconciliation, by hand and by `points check`: entries sum to balances, lots hold what is active."""
    session.commit()
    assert "OK" in points_check(app)
    session.expire_all()
    for account in session.scalars(select(Account)):
        active = session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.account_id == account.id, LedgerEntry.bucket == "active"
            )
        )
        lots = session.scalar(
            select(func.coalesce(func.sum(PointLot.remaining), 0)).where(PointLot.account_id == account.id)
        )
        assert account.active == active == lots


def test_twelve_buyers_three_left(app, db, cat):
    buyers = [cat.participant(1000) for _ in range(12)]
    prize = cat.prize(points=100, stock=3)
    db.session.commit()
    outcomes = _race(app, [(b.id, [Item(prize.id, 1)]) for b in buyers])
    assert sorted(outcomes) == ["ok"] * 3 + ["out_of_stock"] * 9, outcomes
    db.session.expire_all()
    assert db.session.get(Prize, prize.id).stock == 0
    assert db.session.scalar(select(func.sum(OrderLine.quantity))) == 3
    spent = db.session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.cause_type == "order"))
    assert spent == -300
    _ledger_agrees(app, db.session)


def test_one_buyer_many_clicks_cannot_overdraw(app, db, cat):
    buyer = cat.participant(250)
    prizes = [cat.prize(points=100, stock=50) for _ in range(2)]
    db.session.commit()
    # Different prizes in different orders: the locks must not deadlock either.
    attempts = [
        (
            buyer.id,
            [Item(prizes[i % 2].id, 1), Item(prizes[(i + 1) % 2].id, 1)]
            if i % 3 == 0
            else [Item(prizes[i % 2].id, 1)],
        )
        for i in range(8)
    ]
    outcomes = _race(app, attempts)
    assert all(o in ("ok", "insufficient_points") for o in outcomes), outcomes
    db.session.expire_all()
    balance = db.session.scalar(select(Account.active).where(Account.user_id == buyer.id))
    ordered = db.session.scalar(select(func.sum(Order.points)))
    assert ordered + balance == 250 and ordered >= 200
    sold = sum(50 - db.session.get(Prize, p.id).stock for p in prizes)
    assert sold * 100 == ordered
    _ledger_agrees(app, db.session)


def test_simultaneous_clicks_with_one_key_make_one_order(app, db, cat):
    buyer = cat.participant(1000)
    prize = cat.prize(points=100, stock=10)
    db.session.commit()
    buyer_id, prize_id = buyer.id, prize.id  # the threads must not touch the test's own session
    barrier = threading.Barrier(5)
    ids: list[int | str] = []

    def click() -> None:
        with app.app_context():
            session = _db.session
            user = session.get(User, buyer_id)
            barrier.wait(timeout=30)
            try:
                placed = place_order(
                    session,
                    user,
                    [Item(prize_id, 1)],
                    address=ADDRESS,
                    phone=PHONE,
                    idempotency_key="same-click",
                )
                session.commit()
                ids.append(placed.order.id)
            except Conflict as error:
                session.rollback()
                ids.append(error.code)
            finally:
                session.remove()

    threads = [threading.Thread(target=click) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    orders = db.session.scalars(select(Order)).all()
    assert len(orders) == 1 and orders[0].points == 100
    assert sorted(map(str, ids)) == sorted(
        [str(orders[0].id)] * ids.count(orders[0].id) + ["already_placed"] * (5 - ids.count(orders[0].id))
    )
    db.session.expire_all()
    assert db.session.get(Prize, prize_id).stock == 9
    _ledger_agrees(app, db.session)
