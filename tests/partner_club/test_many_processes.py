"""Two app processes and two rq workers on one PostgreSQL and one Redis behave as one club:
sign-in limits count across both, a setting changed on one is seen by the other, each job
runs once."""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from partner_club import create_app
from partner_club.accounts.models import Role
from partner_club.extensions import db as _db
from partner_club.jobs.models import Job, JobStatus
from partner_club.jobs.services import JobContext, enqueue
from partner_club.settings_store import get_setting, put_setting
from tests import factories, processes
from tests.conftest import _config

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
JOBS = 16


def note_once(ctx: JobContext, *, n: int) -> dict:
    key = f"test.many.{n}"
    put_setting(_db.session, key, get_setting(_db.session, key, 0) + 1)
    _db.session.commit()
    time.sleep(0.3)  # long enough for both workers to take some
    return {"pid": os.getpid()}


@pytest.fixture
def club(app, db, database_url, tmp_path):
    if db.engine.dialect.name != "postgresql" or not shutil.which("redis-server"):
        pytest.skip("several processes share PostgreSQL and Redis (TEST_DATABASE_URL)")
    redis = processes.RedisServer().start()
    env = processes.club_env(
        database_url,
        redis.url,
        RQ_QUEUE=f"pc-many-{uuid.uuid4().hex[:6]}",
        LOGIN_RATE_LIMIT="6 per minute",
        PUBLIC_URL="http://127.0.0.1",
    )
    ports = [processes.free_port(), processes.free_port()]
    started = [
        *(
            processes.start(
                [
                    str(Path(sys.executable).with_name("gunicorn")),
                    "-w",
                    "1",
                    "-b",
                    f"127.0.0.1:{port}",
                    "partner_club:create_app()",
                ],
                env,
                tmp_path / f"web-{port}.log",
            )
            for port in ports
        ),
        *(processes.start([*processes.FLASK, "worker"], env, tmp_path / f"worker-{n}.log") for n in (1, 2)),
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base in bases:
            processes.wait_for(lambda base=base: _answers(base), 40, f"{base} to answer")
        enqueuer = create_app(
            _config(
                database_url,
                redis.url,
                RQ_QUEUE=env["RQ_QUEUE"],
                RATELIMIT_STORAGE_URI=app.config["RATELIMIT_STORAGE_URI"],
            )
        )
        yield bases, enqueuer
    finally:
        for process in started:
            processes.stop(process)
        redis.stop()


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _token(browser: requests.Session, url: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', browser.get(url, timeout=10).text).group(1)


def _sign_in(
    base: str, login: str, password: str, browser: requests.Session | None = None
) -> requests.Response:
    browser = browser or requests.Session()
    token = _token(browser, f"{base}/login")
    return browser.post(
        f"{base}/login",
        data={"login": login, "password": password, "csrf_token": token},
        timeout=10,
        allow_redirects=False,
    )


def test_two_app_processes_and_two_workers_act_as_one(club, make, db):
    (first, second), enqueuer = club
    admin = make.user(Role.ADMIN)
    db.session.commit()

    # A setting saved through one process is what the other one shows at once.
    from_first, from_second = requests.Session(), requests.Session()
    assert _sign_in(first, admin.login, factories.PASSWORD, from_first).status_code == 302
    assert _sign_in(second, admin.login, factories.PASSWORD, from_second).status_code == 302
    assert 'value="30"' in from_second.get(f"{second}/admin/territories", timeout=10).text
    token = _token(from_first, f"{first}/admin/territories")
    saved = from_first.post(
        f"{first}/admin/settings/invitation-days", data={"valid_days": "21", "csrf_token": token}, timeout=10
    )
    assert saved.status_code == 200
    assert 'value="21"' in from_second.get(f"{second}/admin/territories", timeout=10).text

    # Sign-in limits: the two sign-ins above and four wrong passwords, split over both
    # processes, use up the minute's six; the seventh is refused by either.
    for n in range(4):
        assert _sign_in((first, second)[n % 2], admin.login, "wrong-password-1").status_code == 200
    assert _sign_in(second, admin.login, "wrong-password-1").status_code == 429
    assert _sign_in(first, admin.login, factories.PASSWORD).status_code == 429

    # Jobs: each of them done once, by whichever worker took it.
    with enqueuer.app_context():
        ids = [enqueue(_db.session, note_once, n=n).id for n in range(JOBS)]
        _db.session.commit()

    def finished() -> bool:
        db.session.expire_all()
        done = db.session.scalars(select(Job.status).where(Job.id.in_(ids))).all()
        return all(status == JobStatus.FINISHED.value for status in done)

    processes.wait_for(finished, 40, "the jobs")
    db.session.expire_all()
    assert [get_setting(db.session, f"test.many.{n}", 0) for n in range(JOBS)] == [1] * JOBS
    workers = {job.result["pid"] for job in db.session.scalars(select(Job).where(Job.id.in_(ids)))}
    assert len(workers) == 2
