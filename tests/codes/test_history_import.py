"""History from an earlier programme: `codes activate --at` and `registrations import`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, select

from codes.models import Batch, BatchStatus, Registration
from partner_club.accounts.models import User
from partner_club.jobs.models import Job
from partner_club.ledger.models import Account, LedgerEntry, PointLot
from partner_club.ledger.policy import RegistrationRule, store_registration_rule
from partner_club.ledger.reconcile import disagreements
from partner_club.outlets.models import Outlet
from reports.models import DailyProductRollup
from reports.rollups import fold_all
from tests.codes.helpers import batch, code


def _world(make, db):
    region = make.region("RU-TA")
    make.outlet(region=region, external_id="SHOP-1")
    shipped = batch(db.session, count=10_000, status=BatchStatus.PRINTED, region=region)
    db.session.commit()
    return shipped


def _event(i, code_, *, day=3, participant="P1", outlet="SHOP-1", **extra):
    event = {
        "id": f"e{i}",
        "ts": f"2025-03-{day:02d}T10:{i % 60:02d}:00+03:00",
        "participant": participant,
        "outlet": outlet,
        "code": code_,
        "channel": "typed",
    }
    event.update(extra)
    return json.dumps(event)


def _count(db, column) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(column)))


def test_activate_at_records_when_a_batch_shipped(app, db, make):
    shipped = _world(make, db)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["codes", "activate", str(shipped.number), "--at", "2025-03-01"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    again = db.session.get(Batch, shipped.id)
    assert again.status == "activated" and again.activated_at == datetime(2025, 3, 1, tzinfo=UTC)
    future = runner.invoke(args=["codes", "activate", str(shipped.number), "--at", "2999-01-01"])
    assert future.exit_code == 1 and "2999-01-01" in future.output


def test_registrations_import_loads_points_ledger_and_rollups_and_names_bad_lines(app, db, make, tmp_path):
    shipped = _world(make, db)
    runner = app.test_cli_runner()
    runner.invoke(args=["codes", "activate", str(shipped.number), "--at", "2025-03-01"])
    lines = [_event(i, code(shipped, i), participant=f"P{i % 3}") for i in range(1, 21)]
    lines += [
        "{not json",  # 21
        _event(22, code(shipped, 1)),  # 22: already registered (line 1's code)
        _event(23, "AAAA-BBBB-CCCC-D"),  # 23: not a club code
        _event(24, code(shipped, 24), outlet="NOPE"),  # 24: unknown shop
        _event(25, code(shipped, 25), day=1, ts="2025-02-01T00:00:00Z"),  # 25: before shipping
        _event(26, code(shipped, 26), channel="fax"),  # 26: bad channel
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(args=["registrations", "import", str(path)])
    assert result.exit_code == 0, result.output
    for line in (21, 22, 23, 24, 25, 26):
        assert f"line {line}:" in result.output
    assert "20 registered" in result.output and "6 bad lines" in result.output
    assert _count(db, Registration.id) == 20
    assert _count(db, User.id) == 3  # P0, P1, P2 created as sellers of SHOP-1
    first = db.session.scalar(select(Registration).order_by(Registration.id))
    assert first.created_at.year == 2025 and first.points == 25
    assert _count(db, LedgerEntry.id) >= 20
    fold_all(db.session)  # what the fold job does within a minute (with Redis, a worker runs it)
    assert db.session.scalar(select(func.sum(DailyProductRollup.registrations))) == 20


def test_a_large_file_runs_as_a_job_with_progress(app, db, make, tmp_path, work_jobs, redis_url):
    shipped = _world(make, db)
    runner = app.test_cli_runner()
    runner.invoke(args=["codes", "activate", str(shipped.number), "--at", "2025-03-01"])
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(_event(i, code(shipped, i)) for i in range(1, 31)) + "\n", encoding="utf-8")
    result = runner.invoke(args=["registrations", "import", "--queue", str(path)])
    assert result.exit_code == 0, result.output
    assert "job " in result.output
    if redis_url:
        work_jobs()  # a worker runs it
    else:
        assert "30 registered" in result.output  # the command ran it in-process and said so
    db.session.expire_all()
    job = db.session.scalar(select(Job).order_by(Job.id.desc()))
    assert (job.status, job.done, job.total) == ("finished", 30, 30)
    assert _count(db, Registration.id) == 30


def test_fraud_rules_run_only_when_asked(app, db, make, tmp_path):
    shipped = _world(make, db)
    runner = app.test_cli_runner()
    runner.invoke(args=["codes", "activate", str(shipped.number), "--at", "2025-03-01"])
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(_event(i, code(shipped, i)) for i in range(1, 6)) + "\n", encoding="utf-8")
    result = runner.invoke(args=["registrations", "import", "--fraud", str(path)])
    assert result.exit_code == 0, result.output
    assert _count(db, Registration.id) + result.output.count("refused by the fraud rules") == 5


def test_bulk_import_shares_points_by_the_shop_rule_and_pays_nothing_twice(app, db, make, tmp_path):
    shipped = _world(make, db)
    shop = db.session.scalar(select(Outlet).where(Outlet.external_id == "SHOP-1"))
    store_registration_rule(db.session, RegistrationRule("split", 60), outlet_id=shop.id, actor_id=None)
    db.session.commit()
    runner = app.test_cli_runner()
    runner.invoke(args=["codes", "activate", str(shipped.number), "--at", "2025-03-01"])
    lines = [_event(i, code(shipped, i), participant=f"P{i % 2}") for i in range(1, 11)]
    lines.append(_event(11, code(shipped, 3)))  # the same code twice in one file
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    first = runner.invoke(args=["registrations", "import", str(path)])
    assert "10 registered" in first.output and "line 11:" in first.output
    again = runner.invoke(args=["registrations", "import", str(path)])
    assert "0 registered" in again.output, again.output
    db.session.expire_all()
    people = db.session.scalar(select(func.sum(Account.active)).where(Account.user_id.is_not(None)))
    shop_points = db.session.scalar(select(Account.active).where(Account.outlet_id == shop.id))
    assert (people, shop_points) == (10 * 15, 10 * 10)  # 25 points a package, 60 % to the person
    assert disagreements(db.session) == []
    assert _count(db, PointLot.id) == 20  # each share earns its own lot, to expire from
