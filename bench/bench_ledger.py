"""Points ledger throughput on PostgreSQL with concurrent workers.

    .venv/bin/python bench/bench_ledger.py                       # 4 workers, ~1 minute
    .venv/bin/python bench/bench_ledger.py --workers 16 --ops 5000 --processes

Creates its own temporary database on the server (--server, default
postgresql://postgres@127.0.0.1:5432/test), builds the tables, then runs
each phase with N workers (threads, or processes with --processes), every
operation in a transaction of its own, and prints operations per second:

  accrue   - each worker credits points to its own accounts
  spend    - each worker spends from its own accounts (oldest lot first)
  hot      - every worker spends 1 point from ONE account: the row lock
             serialises them; this is the worst case
  expire   - expire_due over everything accrued, one transaction

Finally `points check` runs over the result: the ledger must reconcile.
The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import Session

from partner_club import create_app
from partner_club.accounts.models import Role, User
from partner_club.database import utcnow
from partner_club.extensions import db
from partner_club.ledger import services as ledger
from partner_club.ledger.models import Account
from partner_club.ledger.policy import ExpiryPolicy
from partner_club.ledger.reconcile import disagreements
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region
from partner_club.testing import temporary_postgres_database

ACCOUNTS_PER_WORKER = 10


def _app(url: str):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 40, "max_overflow": 40},
            "SECRET_KEY": "bench",
            "CODE_KEYS": "1:" + "b2" * 32,
        }
    )


_APPS: dict[str, object] = {}


def _worker(url: str, phase: str, account_ids: list[int], ops: int, worker: int) -> tuple[int, int]:
    """Runs `ops` operations of `phase`; returns (done, refused)."""
    app = _APPS.get(url) or _APPS.setdefault(url, _app(url))
    done = refused = 0
    with app.app_context():
        engine = db.engine
        for n in range(ops):
            account_id = account_ids[n % len(account_ids)]
            with Session(engine) as session:
                account = session.get(Account, account_id)
                try:
                    if phase == "accrue":
                        at = utcnow() - timedelta(days=400 if n % 2 else 1)  # half of it old enough to expire
                        ledger.accrue(
                            session, account, 10, cause_type="bench", cause_id=f"{worker}-{n}", at=at
                        )
                    else:
                        ledger.spend(
                            session,
                            account,
                            3 if phase == "spend" else 1,
                            cause_type="bench",
                            cause_id=f"{worker}-{n}",
                        )
                    session.commit()
                    done += 1
                except ledger.InsufficientPoints:
                    session.rollback()
                    refused += 1
    return done, refused


def _run_phase(url: str, phase: str, groups: list[list[int]], ops: int, processes: bool) -> None:
    pool_class = ProcessPoolExecutor if processes else ThreadPoolExecutor
    kwargs = {"mp_context": multiprocessing.get_context("spawn")} if processes else {}
    with pool_class(len(groups), **kwargs) as pool:
        if processes:  # warm the processes up (imports, app) outside the clock
            list(pool.map(_warm, [url] * len(groups)))
        started = time.perf_counter()
        results = list(
            pool.map(
                _worker,
                [url] * len(groups),
                [phase] * len(groups),
                groups,
                [ops] * len(groups),
                range(len(groups)),
            )
        )
        elapsed = time.perf_counter() - started
    done = sum(r[0] for r in results)
    refused = sum(r[1] for r in results)
    print(
        f"{phase:<8} {len(groups):>3} workers  {done + refused:>7} ops  {elapsed:7.2f} s  "
        f"{(done + refused) / elapsed:9.0f} ops/s  ({refused} refused as insufficient)"
    )


def _warm(url: str) -> None:
    _APPS.get(url) or _APPS.setdefault(url, _app(url))


def _seed(app, workers: int) -> list[list[int]]:
    with app.app_context():
        db.create_all()
        region = Region(iso_code="RU-BN", country="RU", name_en="Bench", name_ru="Бенч")
        db.session.add(region)
        db.session.flush()
        outlet = Outlet(name="Bench shop", region_id=region.id)
        db.session.add(outlet)
        db.session.flush()
        ledger.set_expiry_policy(db.session, ExpiryPolicy("months", 12), actor=None)
        groups = []
        for w in range(workers):
            ids = []
            for a in range(ACCOUNTS_PER_WORKER):
                user = User(
                    login=f"bench-{w}-{a}", role=Role.SELLER.value, outlet_id=outlet.id, password_hash="x"
                )
                db.session.add(user)
                db.session.flush()
                ids.append(ledger.account_for_user(db.session, user).id)
            groups.append(ids)
        db.session.commit()
        return groups


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--server",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="a PostgreSQL URL; the benchmark creates and drops its own database there",
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--ops", type=int, default=500, help="operations per worker and phase")
    parser.add_argument("--processes", action="store_true", help="workers are processes, not threads")
    args = parser.parse_args()

    with temporary_postgres_database(args.server, "pc_bench_ledger") as url:
        app = _app(url)
        _APPS[url] = app
        groups = _seed(app, args.workers)
        print(
            f"ledger bench on PostgreSQL, {args.workers} {'processes' if args.processes else 'threads'}, "
            f"{args.ops} operations per worker and phase"
        )
        _run_phase(url, "accrue", groups, args.ops, args.processes)
        _run_phase(url, "spend", groups, args.ops, args.processes)
        hot = [[groups[0][0]]] * args.workers
        with app.app_context():  # enough points that every hot spend succeeds
            ledger.accrue(
                db.session,
                db.session.get(Account, groups[0][0]),
                args.workers * args.ops,
                cause_type="bench",
                cause_id="hot",
            )
            db.session.commit()
        _run_phase(url, "hot", hot, args.ops, args.processes)
        with app.app_context():
            started = time.perf_counter()
            expired = ledger.expire_due(db.session, utcnow())
            db.session.commit()
            elapsed = time.perf_counter() - started
            print(
                f"expire   {expired} points expired over {len(groups) * ACCOUNTS_PER_WORKER} accounts "
                f"in {elapsed:.2f} s"
            )
            found = disagreements(db.session)
            print(
                "points check: OK, every balance equals the sum of its entries"
                if not found
                else f"points check: {len(found)} DISAGREEMENTS: {found[:5]}"
            )
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
