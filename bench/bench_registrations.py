"""Registrations per second through the HTTP API on PostgreSQL with gunicorn,
beside a bare endpoint that does one insert, in the same run.

    .venv/bin/python bench/bench_registrations.py                  # 3000 requests each, about a minute
    .venv/bin/python bench/bench_registrations.py --requests 10000 --concurrency 32 --workers 4
    .venv/bin/python bench/bench_registrations.py --without-fraud  # codes + ledger only
    .venv/bin/python bench/bench_registrations.py --in-process     # CPU per registration, no HTTP
    .venv/bin/python bench/bench_registrations.py --campaigns 200 --applying 20  # with campaigns running

Creates its own temporary database on the server (--server, default
postgresql://postgres@127.0.0.1:5432/test), creates the tables, an activated
batch and one seller per shop (so no person or shop looks like a burst to the
fraud checks), issues API tokens, and starts gunicorn (--workers sync
workers) on the real app behind one trusted proxy: each seller sends from
an address and a phone of their own. It first registers --history codes
(untimed; every seller then has an account and a past, as in a club in
operation) and runs ANALYZE, as autovacuum would on a live database. Then it
fires the same number of requests with the same concurrency at

  bare      POST /bench/bare: authenticate the bearer token, insert one row, commit
  register  POST /api/v1/registrations: a new valid code each time, the whole path
            (normalise, decode, batch checks, fraud assessment, insert, ledger; the
            rollups are folded in by a job after the commit)

in --rounds alternating rounds (bare first in one round, registrations first
in the next), so that a slow spell of a shared machine falls on both alike, and
prints requests per second of each and their ratio (goal: register at least
half of bare), in all and per round, and the machine's busy CPU time per
request of each (from /proc/stat: app, database and load client together),
whose ratio is what the rates would show on a machine of one's own. It
then prints the fold job's lag: how long after the last registration's
commit every registration was in the rollups. The database is dropped at
the end.

--campaigns N --applying M: N campaigns run during the whole bench, M of them
apply to the product sent (multipliers and bonuses per package, adding up;
with --counting K of those M keep a count: a budget, so each registration
locks their rows), the others to other products (goal: the ratio at least
0.4).

--in-process skips HTTP and gunicorn: one process calls `register_code` and
commits, --requests times after --history untimed ones, and prints the
process's CPU time per registration (the fold jobs it starts included), the
statements one registration sends, and the fold lag. It only uses
`register_code`'s public signature, so the same file measures an older
checkout too (the before/after figures in docs/architecture.md).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests
from flask import Blueprint, jsonify
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
)

import partner_club  # noqa: F401 - first: the app package imports the domain packages in order
from codes import issuing, services
from codes.models import BatchStatus, Registration
from fraud.services import save_config
from partner_club import create_app
from partner_club.accounts.models import Role, User
from partner_club.api.base import api_login_required, issue_token
from partner_club.extensions import csrf, db
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region
from partner_club.signals import registration_checks
from partner_club.testing import temporary_postgres_database

BENCH_KEYS = "1:" + "c3" * 32
_bench_metadata = MetaData()
bench_inserts = Table(
    "bench_inserts", _bench_metadata, Column("id", Integer, primary_key=True), Column("value", String(64))
)


def bench_app():
    """The real app plus the bare endpoint; gunicorn loads this factory."""
    app = create_app()
    if os.environ.get("BENCH_WITHOUT_FRAUD"):
        for receiver in list(registration_checks.receivers_for(None)):
            registration_checks.disconnect(receiver)
    bare = Blueprint("bench_bare", __name__)

    @bare.post("/bench/bare")
    @api_login_required()
    def bare_insert():
        db.session.execute(insert(bench_inserts).values(value=uuid.uuid4().hex))
        db.session.commit()
        return jsonify({"ok": True}), 201

    app.register_blueprint(bare)
    csrf.exempt(bare)
    return app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _campaigns(session, total: int, applying: int, counting: int) -> None:
    """`total` running campaigns, `applying` of them to the bench's product (through the
    campaign services, as staff would create and launch them)."""
    from datetime import timedelta

    from partner_club.campaigns.services import CampaignData, create_campaign, move
    from partner_club.database import utcnow

    now = utcnow()
    for n in range(total):
        applies = n < applying
        data = CampaignData(
            name_ru=f"Акция {n}",
            name_en=f"Campaign {n}",
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=30),
            mechanic="multiplier" if n % 2 == 0 else "bonus",
            value=1.5 if n % 2 == 0 else 2,
            skus=["BENCH-1"] if applies else ["BENCH-2"],
            budget=10**9 if applies and n < counting else None,
        )
        move(session, create_campaign(session, data, actor=None), "launch", actor=None, now=now)


def _prepare(
    url: str, people: int, count: int, campaigns: tuple[int, int, int] = (0, 0, 0)
) -> tuple[list[str], list[str]]:
    """Tables, a product, an activated batch, sellers with tokens; returns (tokens, codes)."""

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "CODE_KEYS": BENCH_KEYS,
            "PUBLIC_URL": "http://bench.test",
        }
    )
    with app.app_context():
        db.create_all()
        _bench_metadata.create_all(db.engine)
        session = db.session
        region = Region(iso_code="RU-MOW", country="RU", name_en="Moscow", name_ru="Москва")
        session.add(region)
        session.flush()
        product = issuing.save_product(session, sku="BENCH-1", name="Bench paint", points="10")
        batch = issuing.issue_batch(session, product, count)
        issuing.set_batch_status(session, batch, BatchStatus.ACTIVATED, actor=None)
        # Ten codes per seller within minutes, several a second: in a night hour of the club's time
        # zone the fraud checks would rightly hold them (a night burst, machine pace at night), and
        # they ask more at night. The bench measures the day's path at any hour: a night that
        # starts and ends at the same hour is no night.
        no_night = {"night_start": "0", "night_end": "0"}
        save_config(session, {"detectors": {"time": {"params": no_night}}}, actor=None)
        users = []
        for n in range(people):
            outlet = Outlet(name=f"Bench shop {n}", region_id=region.id, lat=55.75, lon=37.62)
            session.add(outlet)
            session.flush()
            user = User(
                login=f"bench{n}@example.com", password_hash="!", role=Role.SELLER.value, outlet_id=outlet.id
            )
            session.add(user)
            users.append(user)
        session.flush()
        with app.test_request_context():
            if campaigns[0]:  # the ones not applying are for a product the bench does not send
                issuing.save_product(session, sku="BENCH-2", name="Bench primer", points="10")
                _campaigns(session, *campaigns)
            tokens = [issue_token(user) for user in users]
            codes = [services.batch_code(batch, serial) for serial in range(1, count + 1)]
        session.commit()
    return tokens, codes


def person_headers(tokens: list[str], person: int) -> dict[str, str]:
    """Each seller on a phone of their own at an address of their own, behind one load balancer
    (gunicorn runs with TRUSTED_PROXIES=1): otherwise the fraud checks would rightly hold every
    registration as hundreds of accounts sharing one address and one device."""
    return {
        "Authorization": f"Bearer {tokens[person]}",
        "X-Forwarded-For": f"10.{person // 65536 % 256}.{person // 256 % 256}.{person % 256}",
        "User-Agent": f"BenchPhone/{person}",
    }


def _fire(
    base: str, path: str, bodies: list[dict], tokens: list[str], concurrency: int
) -> tuple[float, dict]:
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    position = [0]

    def worker(index: int) -> None:
        http = requests.Session()
        while True:
            with lock:
                if position[0] >= len(bodies):
                    return
                item = position[0]
                position[0] += 1
            person = item % len(tokens)
            response = http.post(base + path, json=bodies[item], headers=person_headers(tokens, person))
            outcome = str(response.status_code)
            if response.status_code == 201 and "status" in response.json():
                outcome += " " + response.json()["status"]
            with lock:
                statuses[outcome] = statuses.get(outcome, 0) + 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, statuses


def _cpu_seconds() -> tuple[float, float]:
    """(busy, stolen) CPU seconds of the whole machine so far, from /proc/stat (Linux)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq) / tick, steal / tick


def _analyze(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


def _unfolded(url: str) -> int | None:
    """Registrations not in the rollups yet (None: a checkout without the fold job)."""
    if not hasattr(Registration, "folded"):
        return None
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).where(~Registration.folded)).scalar()
    finally:
        engine.dispose()


def _awards(url: str) -> str:
    """How many campaign awards the registrations got (a check that the campaigns applied)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            count = conn.execute(
                text("SELECT count(*), count(DISTINCT registration_id) FROM campaign_awards")
            )
            awards, registrations = count.one()
    finally:
        engine.dispose()
    return f"{awards} campaign awards on {registrations} registrations"


def _fold_lag(url: str, committed_at: float) -> str:
    """Seconds from the last registration's commit until every registration was folded."""
    while True:
        left = _unfolded(url)
        if left is None:
            return "no fold job (rollups written in the request)"
        if left == 0:
            return f"{time.monotonic() - committed_at:.2f} s after the last commit"
        if time.monotonic() - committed_at > 120:
            return f"over 120 s ({left} registrations still unfolded)"
        time.sleep(0.05)


def in_process(
    url: str, people: int, history: int, count: int, campaigns: tuple[int, int, int] = (0, 0, 0)
) -> None:
    """CPU time per registration of `register_code` + commit in this process, no HTTP."""
    tokens_and_codes = _prepare(url, people, history + count, campaigns)
    codes = tokens_and_codes[1]
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "CODE_KEYS": BENCH_KEYS,
            "PUBLIC_URL": "http://bench.test",
            "REDIS_URL": None,
        }
    )
    with app.app_context(), app.test_request_context():
        sellers = db.session.scalars(select(User).order_by(User.id)).all()

        def register(n: int) -> None:
            person = n % len(sellers)
            ctx = services.RegistrationContext(
                ip=f"10.{person // 256 % 256}.{person % 256}.1", device=f"BenchPhone/{person}"
            )
            services.register_code(db.session, sellers[person], codes[n], channel="api", ctx=ctx)
            db.session.commit()

        for n in range(history):
            register(n)
        _analyze(url)
        sent: list[str] = []
        listener = lambda *args: sent.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        register(history)
        event.remove(db.engine, "before_cursor_execute", listener)
        started_cpu, started = time.process_time(), time.perf_counter()
        for n in range(history + 1, history + count):
            register(n)
        cpu, wall = time.process_time() - started_cpu, time.perf_counter() - started
        committed_at = time.monotonic()
        print(f"PostgreSQL, in-process, {count - 1} registrations after {history} earlier ones")
        print(
            f"CPU per registration: {1000 * cpu / (count - 1):.2f} ms (wall {1000 * wall / (count - 1):.2f} ms)"
        )
        print(f"statements of one registration, commit included: {len(sent)}")
        print(f"fold lag: {_fold_lag(url, committed_at)}")
        if campaigns[0]:
            print(f"campaigns: {_awards(url)}")


def main() -> None:
    parser = argparse.ArgumentParser(description="registrations per second through the API")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument(
        "--people",
        type=int,
        default=None,
        help="sellers (default: one per 10 registrations, so none looks like a burst to fraud)",
    )
    parser.add_argument(
        "--history",
        type=int,
        default=2000,
        help="registrations sent (untimed) before measuring, then ANALYZE: a club in operation",
    )
    parser.add_argument(
        "--rounds", type=int, default=6, help="alternating rounds the timed requests are split into"
    )
    parser.add_argument("--without-fraud", action="store_true", help="disconnect the fraud checks")
    parser.add_argument("--in-process", action="store_true", help="CPU per registration, no HTTP")
    parser.add_argument("--campaigns", type=int, default=0, help="campaigns running during the bench")
    parser.add_argument("--applying", type=int, default=0, help="of them, applying to the codes sent")
    parser.add_argument(
        "--counting", type=int, default=0, help="of the applying ones, with a budget (a row lock each)"
    )
    args = parser.parse_args()
    campaigns = (args.campaigns, min(args.applying, args.campaigns), min(args.counting, args.applying))

    people = args.people or max(100, -(-(args.history + args.requests) // 10))
    if args.in_process:
        with temporary_postgres_database(args.server, "pc_bench_reg") as url:
            in_process(url, people, args.history, args.requests, campaigns)
        return
    with temporary_postgres_database(args.server, "pc_bench_reg") as url:
        gunicorn = None
        try:
            tokens, codes = _prepare(url, people, args.history + args.requests, campaigns)
            port = _free_port()
            env = dict(
                os.environ,
                DATABASE_URL=url,
                SECRET_KEY="bench",
                CODE_KEYS=BENCH_KEYS,
                PUBLIC_URL="http://bench.test",
                LOGIN_RATE_LIMIT="100000 per minute",
                REDIS_URL="",
                TRUSTED_PROXIES="1",
            )
            if args.without_fraud:
                env["BENCH_WITHOUT_FRAUD"] = "1"
            gunicorn = subprocess.Popen(
                [
                    str(ROOT / ".venv/bin/gunicorn"),
                    "--chdir",
                    str(ROOT),
                    "-w",
                    str(args.workers),
                    "-b",
                    f"127.0.0.1:{port}",
                    "--log-level",
                    "warning",
                    "bench.bench_registrations:bench_app()",
                ],
                env=env,
            )
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    requests.get(base + "/api/v1/openapi.json", timeout=10)
                    break
                except requests.RequestException:
                    time.sleep(0.2)
            # Before measuring, the state of a club in operation: every seller has registered
            # before (so has a points account and a history), and the tables have the planner
            # statistics autovacuum keeps. Fresh tables without statistics plan as if empty.
            bodies = [{"code": code} for code in codes]
            _fire(base, "/api/v1/registrations", bodies[: args.history], tokens, args.concurrency)
            _fire(
                base, "/bench/bare", [{}] * min(500, args.requests), tokens, args.concurrency
            )  # warm, like the other
            _analyze(url)
            totals = {"bare": [0.0, {}], "register": [0.0, {}]}
            cpu = {"bare": [0.0, 0.0], "register": [0.0, 0.0]}  # busy and stolen seconds
            rounds = []
            timed = bodies[args.history :]
            for n in range(args.rounds):
                chunk = timed[n * len(timed) // args.rounds : (n + 1) * len(timed) // args.rounds]
                phases = [
                    ("bare", "/bench/bare", [{}] * len(chunk)),
                    ("register", "/api/v1/registrations", chunk),
                ]
                rates = {}
                for name, path, items in phases if n % 2 == 0 else phases[::-1]:
                    busy, stolen = _cpu_seconds()
                    seconds, statuses = _fire(base, path, items, tokens, args.concurrency)
                    busy_after, stolen_after = _cpu_seconds()
                    cpu[name][0] += busy_after - busy
                    cpu[name][1] += stolen_after - stolen
                    rates[name] = len(items) / seconds
                    totals[name][0] += seconds
                    for outcome, count in statuses.items():
                        totals[name][1][outcome] = totals[name][1].get(outcome, 0) + count
                rounds.append((rates["bare"], rates["register"]))
            bare_rate = args.requests / totals["bare"][0]
            reg_rate = args.requests / totals["register"][0]
            print(
                f"PostgreSQL, gunicorn {args.workers} sync workers, {args.concurrency} concurrent clients, "
                f"{args.requests} requests each in {args.rounds} alternating rounds, "
                f"after {args.history} earlier registrations{' (fraud checks off)' if args.without_fraud else ''}"
                + (
                    f"; {campaigns[0]} campaigns running, {campaigns[1]} applying ({campaigns[2]} with a budget)"
                    if campaigns[0]
                    else ""
                )
            )
            print(f"bare insert:     {bare_rate:8.1f} req/s  statuses {totals['bare'][1]}")
            committed_at = time.monotonic()
            print(f"registrations:   {reg_rate:8.1f} req/s  statuses {totals['register'][1]}")
            goal = "0.4, with campaigns" if campaigns[0] else "0.5"
            print(f"ratio:           {reg_rate / bare_rate:8.2f} (goal: at least {goal})")
            print(
                "per round:       "
                + ", ".join(f"{b:.0f}/{r:.0f} = {r / b:.2f}" for b, r in rounds)
                + "  (bare/registrations req/s = ratio)"
            )
            if cpu["bare"][0] and cpu["register"][0]:
                # What each request cost the whole machine (app, database, load client): steadier
                # than the rates when neighbours on a shared host take CPU time ("stolen").
                bare_ms, reg_ms = (1000 * cpu[name][0] / args.requests for name in ("bare", "register"))
                stolen = {name: 100 * cpu[name][1] / max(cpu[name][0] + cpu[name][1], 1e-9) for name in cpu}
                print(
                    f"CPU per request: bare {bare_ms:.2f} ms, registrations {reg_ms:.2f} ms, "
                    f"ratio {bare_ms / reg_ms:.2f}  (machine-wide busy time; stolen by the host: "
                    f"{stolen['bare']:.0f} % / {stolen['register']:.0f} %)"
                )
            print(f"fold lag:        {_fold_lag(url, committed_at)}")
            if campaigns[0]:
                print(f"campaigns:       {_awards(url)}")
        finally:
            if gunicorn is not None:
                gunicorn.send_signal(signal.SIGTERM)
                try:
                    gunicorn.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    gunicorn.kill()
                    gunicorn.wait()


if __name__ == "__main__":
    main()
