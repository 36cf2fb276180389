"""Redis goes down: sign-in and pages keep working, jobs wait in the database and go when it returns."""

from __future__ import annotations

import shutil
import uuid

import pytest
from sqlalchemy import update

from partner_club import create_app
from partner_club.accounts.models import Role
from partner_club.extensions import db as _db
from partner_club.extensions import limiter
from partner_club.jobs.models import Job, JobStatus
from partner_club.jobs.services import JobContext, enqueue, sweep
from partner_club.ledger.services import account_for_user, accrue
from partner_club.settings_store import get_setting, put_setting
from tests import factories, processes
from tests.catalog.conftest import ADDRESS, PHONE
from tests.codes.helpers import batch, code
from tests.conftest import _config
from tests.partner_club.test_personal_data import _prize

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")


def mark_done(ctx: JobContext, *, key: str) -> dict:
    put_setting(_db.session, key, get_setting(_db.session, key, 0) + 1)
    _db.session.commit()
    return {"ok": True}


@pytest.fixture
def outage(app, db, database_url, tmp_path):
    """An app and a worker process on a Redis of the test's own; the limiter counts there too."""
    redis = processes.RedisServer().start()
    club = create_app(_config(database_url, redis.url, RQ_QUEUE=f"pc-outage-{uuid.uuid4().hex[:6]}"))
    env = processes.club_env(database_url, redis.url, RQ_QUEUE=club.config["RQ_QUEUE"], JOB_SWEEP_SECONDS="1")
    worker = processes.start([*processes.FLASK, "worker"], env, tmp_path / "worker.log")
    try:
        yield club, redis
    finally:
        processes.stop(worker)
        redis.stop()
        limiter.init_app(app)  # the limiter is one object: back to the suite's storage


def _job(club, job_id: int) -> Job:
    with club.app_context():
        _db.session.expire_all()
        job = _db.session.get(Job, job_id)
        _db.session.expunge(job)
        return job


def test_with_redis_down_the_club_answers_and_jobs_wait_for_it(outage, make):
    club, redis = outage
    admin = make.user(Role.ADMIN)
    seller = make.user(Role.SELLER)
    accrue(
        _db.session,
        account_for_user(_db.session, seller),
        500,
        cause_type="adjustment",
        cause_id=None,
        kind="adjustment",
    )
    issued = batch(_db.session)
    prize = _prize(_db.session)
    _db.session.commit()
    with club.app_context():
        job_id = enqueue(_db.session, mark_done, title="Outage", created_by_id=admin.id, key="test.outage").id
        _db.session.commit()
    processes.wait_for(lambda: _job(club, job_id).status == JobStatus.FINISHED.value, 60, "the first run")
    with club.app_context():  # as if it had failed, so staff can start it again
        _db.session.execute(update(Job).where(Job.id == job_id).values(status=JobStatus.FAILED.value))
        _db.session.commit()

    redis.stop()
    client = club.test_client()
    assert (
        client.post("/login", data={"login": admin.login, "password": factories.PASSWORD}).status_code == 302
    )
    assert client.get("/").status_code == 200
    assert client.get("/readyz").status_code == 503
    # Registrations, scans and orders of a participant go through.
    shop = club.test_client()
    token = shop.post("/api/v1/auth/token", json={"login": seller.login, "password": factories.PASSWORD})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    assert (
        shop.post("/api/v1/registrations", json={"code": code(issued, 3)}, headers=headers).status_code == 201
    )
    scanned = shop.post("/api/v1/scans", data={"payload": code(issued, 4)}, headers=headers)
    assert scanned.status_code == 200
    order = {
        "items": [{"prize": prize.id, "quantity": 1}],
        "delivery": {"address": ADDRESS, "phone": PHONE},
    }
    assert shop.post("/api/v1/orders", json=order, headers=headers).status_code == 201
    # A request that starts a job answers as usual; the job waits in the database.
    assert client.post(f"/jobs/{job_id}/retry").status_code == 302
    job = _job(club, job_id)
    assert (job.status, job.dispatched_at) == (JobStatus.QUEUED.value, None)
    assert sweep(club)["dispatched"] == 0  # still down: nothing lost, nothing sent

    redis.start()  # same port; the worker reconnects by itself and its sweep sends the job
    job = processes.wait_for(
        lambda: (j := _job(club, job_id)).status == JobStatus.FINISHED.value and j,
        60,
        "the job after the outage",
    )
    assert job.dispatched_at is not None
    with club.app_context():
        assert get_setting(_db.session, "test.outage", None) == 2  # once before, once after
