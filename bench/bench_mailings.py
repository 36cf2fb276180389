"""How fast a mailing's batches write: 20,000 people, no rate limit, on PostgreSQL.

    .venv/bin/python bench/bench_mailings.py
    .venv/bin/python bench/bench_mailings.py --people 5000 --batch 200

A fresh database is made on the server and dropped at the end: one region, 500 shops, the
people as sellers spread over them. The mailing's batches (`send_batch`, one transaction
each: a recipient row and a notification per person) run back to back with no pause, so
the figure is the ceiling the rate setting works under. Delivering (the job's other half,\nat the set rate) is not run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select

from partner_club import create_app
from partner_club.accounts.models import Role, User
from partner_club.database import utcnow
from partner_club.extensions import db
from partner_club.mailings import services
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region
from partner_club.testing import temporary_postgres_database

SHOPS = 500


def build(people: int) -> User:
    region = Region(iso_code="RU-BE", country="RU", name_en="Bench", name_ru="Бенч")
    db.session.add(region)
    db.session.flush()
    db.session.execute(
        insert(Outlet),
        [
            {"external_id": f"B{n}", "name": f"Shop {n}", "kind": "shop", "region_id": region.id}
            for n in range(SHOPS)
        ],
    )
    outlets = list(db.session.scalars(select(Outlet.id)))
    db.session.execute(
        insert(User),
        [
            {
                "login": f"p{n}@bench",
                "password_hash": "x",
                "role": Role.SELLER.value,
                "outlet_id": outlets[n % SHOPS],
            }
            for n in range(people)
        ],
    )
    admin = User(login="admin@bench", password_hash="x", role=Role.ADMIN.value)
    db.session.add(admin)
    db.session.commit()
    return admin


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    with temporary_postgres_database(args.database_url, "pc_bench_mailings") as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "bench"})
        with app.app_context():
            db.create_all()
            admin = build(args.people)
            draft = services.MailingDraft(title_ru="Т", title_en="T", body_ru="Текст", body_en="Text")
            mailing = services.save_mailing(db.session, draft, actor=admin)
            services.set_limits(db.session, cap=50, rate=1000, actor=admin)
            db.session.commit()
            where = services.send_filter(db.session, mailing, utcnow())
            times, started = [], time.perf_counter()
            while True:
                began = time.perf_counter()
                handled, _notifications = services.send_batch(
                    db.session, mailing, where, now=utcnow(), limit=args.batch
                )
                db.session.commit()
                if not handled:
                    break
                times.append(time.perf_counter() - began)
            total = time.perf_counter() - started
            print(
                f"{args.people:,} people in batches of {args.batch}: {total:.1f} s, "
                f"{args.people / total:,.0f} people/s; batch median {statistics.median(times):.2f} s, "
                f"max {max(times):.2f} s"
            )


if __name__ == "__main__":
    main()
