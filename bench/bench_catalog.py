"""Prize orders per second on PostgreSQL with concurrent buyers.

    .venv/bin/python bench/bench_catalog.py                        # 8 workers, a few seconds
    .venv/bin/python bench/bench_catalog.py --workers 16 --orders 200 --stock 1000

Creates its own temporary database on the server (--server, default
postgresql://postgres@127.0.0.1:5432/test), builds the tables, then runs:

  spread  - every worker's buyers order different prizes: the prize rows
            rarely meet, so this is the ordinary load
  hot     - every buyer orders the SAME prize, whose stock runs out during
            the phase: the row lock serialises them; the worst case. The
            prize must end at exactly 0, never below, and the refusals must
            be exactly the orders beyond the stock

Finally `points check` runs: the ledger must reconcile. The database is
dropped at the end.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.models import Category, Order, Prize
from catalog.services import Item, OutOfStock, place_order
from partner_club import create_app
from partner_club.accounts.models import Role, User
from partner_club.extensions import db
from partner_club.ledger import services as ledger
from partner_club.ledger.reconcile import disagreements
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region
from partner_club.testing import temporary_postgres_database

ADDRESS, PHONE = "Kazan, Baumana street 12, flat 5", "+79123456789"


def _setup(session: Session, workers: int, orders: int, stock: int) -> tuple[list[list[int]], list[int], int]:
    region = Region(iso_code="RU-BE", country="RU", name_en="Bench", name_ru="Бенч")
    session.add(region)
    session.flush()
    outlet = Outlet(name="Bench shop", region_id=region.id)
    category = Category(slug="bench", kind="branded", name_en="Bench", name_ru="Бенч")
    session.add_all([outlet, category])
    session.flush()
    buyers: list[list[int]] = []
    for w in range(workers):
        ids = []
        for b in range(5):
            user = User(
                login=f"buyer-{w}-{b}@bench", password_hash="-", role=Role.SELLER.value, outlet_id=outlet.id
            )
            session.add(user)
            session.flush()
            ledger.accrue(
                session,
                ledger.account_for_user(session, user),
                orders * 100,
                cause_type="bench",
                cause_id=user.id,
            )
            ids.append(user.id)
        buyers.append(ids)
    spread = []
    for w in range(workers):
        prize = Prize(
            category_id=category.id,
            name_en=f"Spread {w}",
            name_ru=f"Приз {w}",
            points=10,
            stock=orders * 10,
            provider_sku=f"SPREAD-{w}",
        )
        session.add(prize)
        session.flush()
        spread.append(prize.id)
    hot = Prize(
        category_id=category.id, name_en="Hot", name_ru="Горячий", points=10, stock=stock, provider_sku="HOT"
    )
    session.add(hot)
    session.flush()
    return buyers, spread, hot.id


def _buyer(app, user_ids: list[int], prize_id: int, orders: int) -> tuple[int, int]:
    done = refused = 0
    with app.app_context():
        for n in range(orders):
            with Session(db.engine) as session:
                user = session.get(User, user_ids[n % len(user_ids)])
                try:
                    place_order(session, user, [Item(prize_id, 1)], address=ADDRESS, phone=PHONE)
                    session.commit()
                    done += 1
                except OutOfStock:
                    session.rollback()
                    refused += 1
    return done, refused


def _phase(app, name: str, buyers: list[list[int]], prizes: list[int], orders: int) -> tuple[int, int]:
    started = time.perf_counter()
    with ThreadPoolExecutor(len(buyers)) as pool:
        results = list(pool.map(lambda w: _buyer(app, buyers[w], prizes[w], orders), range(len(buyers))))
    seconds = time.perf_counter() - started
    done, refused = sum(r[0] for r in results), sum(r[1] for r in results)
    print(
        f"{name:7s} {len(buyers)} workers: {done} orders, {refused} refused in {seconds:.2f} s "
        f"= {(done + refused) / seconds:.0f} attempts/s"
    )
    return done, refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--orders", type=int, default=40, help="orders per worker and phase")
    parser.add_argument("--stock", type=int, default=100, help="stock of the hot prize")
    args = parser.parse_args()
    with temporary_postgres_database(args.server, "pc_bench_catalog") as url:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench",
                "CODE_KEYS": "1:" + "b2" * 32,
                "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": args.workers + 4, "max_overflow": 10},
            }
        )
        with app.app_context():
            db.create_all()
            buyers, spread, hot = _setup(db.session, args.workers, args.orders, args.stock)
            db.session.commit()
        _phase(app, "spread", buyers, spread, args.orders)
        done, _refused = _phase(app, "hot", buyers, [hot] * args.workers, args.orders)
        with app.app_context():
            stock = db.session.scalar(select(Prize.stock).where(Prize.id == hot))
            orders = db.session.scalar(select(func.count(Order.id)))
            expected_hot = min(args.stock, args.workers * args.orders)
            print(f"hot prize: stock left {stock}, sold {done} of {args.stock}; orders in all {orders}")
            assert done == expected_hot and stock == args.stock - done >= 0, "oversold or undersold!"
            problems = disagreements(db.session)
            print("points check:", problems if problems else "OK")
            assert not problems
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
