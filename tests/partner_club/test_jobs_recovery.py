"""Jobs survive their worker: a real rq worker is killed with SIGKILL in the middle of a job."""

from __future__ import annotations

import shutil
import signal
import time
import uuid

import pytest
from sqlalchemy import update

from partner_club import create_app
from partner_club.extensions import db as _db
from partner_club.jobs.models import Job, JobStatus
from partner_club.jobs.services import JobContext, enqueue
from partner_club.settings_store import get_setting, put_setting
from tests import factories, processes
from tests.conftest import _config

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")


def bump_after_first_attempt(ctx: JobContext, *, key: str) -> dict:
    """The first attempt hangs until its worker is killed; a later one adds 1, once."""
    attempt = _db.session.get(Job, ctx.job_id).attempts
    if attempt == 1:
        ctx.progress(0, 1, "first attempt")
        time.sleep(120)
    put_setting(_db.session, key, get_setting(_db.session, key, 0) + 1)
    _db.session.commit()
    return {"attempt": attempt}


@pytest.fixture
def redis_server():
    server = processes.RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def worker_app(app, db, database_url, redis_server):
    queue_name = f"pc-recovery-{uuid.uuid4().hex[:6]}"
    # The limiter is one object for every app: it keeps counting where the suite's app does.
    storage = app.config["RATELIMIT_STORAGE_URI"]
    return create_app(
        _config(database_url, redis_server.url, RQ_QUEUE=queue_name, RATELIMIT_STORAGE_URI=storage)
    )


def _worker(app, database_url, tmp_path, **env):
    settings = {
        "RQ_QUEUE": app.config["RQ_QUEUE"],
        "JOB_HEARTBEAT_SECONDS": "0.5",
        "JOB_STALE_SECONDS": "3",
        "JOB_SWEEP_SECONDS": "1",
        **env,
    }
    environment = processes.club_env(database_url, app.config["REDIS_URL"], **settings)
    return processes.start([*processes.FLASK, "worker"], environment, tmp_path / "worker.log")


def _job(app, job_id: int) -> Job:
    with app.app_context():
        _db.session.expire_all()
        job = _db.session.get(Job, job_id)
        _db.session.expunge(job)
        return job


def _start_and_kill(app, database_url, tmp_path, key: str) -> int:
    with app.app_context():
        job_id = enqueue(_db.session, bump_after_first_attempt, title="Bump", key=key).id
        _db.session.commit()
    first = _worker(app, database_url, tmp_path)
    try:
        processes.wait_for(lambda: _job(app, job_id).message == "first attempt", 60, "the first attempt")
    finally:
        processes.stop(first, signal.SIGKILL)
    return job_id


def test_a_killed_workers_job_is_retried_and_done_once(worker_app, database_url, tmp_path):
    key = "test.recovery.retried"
    job_id = _start_and_kill(worker_app, database_url, tmp_path, key)
    assert _job(worker_app, job_id).status == JobStatus.RUNNING.value  # nobody knows yet
    second = _worker(worker_app, database_url, tmp_path)
    try:
        job = processes.wait_for(
            lambda: (j := _job(worker_app, job_id)).status == JobStatus.FINISHED.value and j, 60, "the retry"
        )
        assert job.attempts == 2 and job.result == {"attempt": 2}
        time.sleep(3)  # rq's own clean-up of the dead worker's entry must not run it again
    finally:
        processes.stop(second)
    with worker_app.app_context():
        assert get_setting(_db.session, key, None) == 1
        assert _db.session.get(Job, job_id).status == JobStatus.FINISHED.value


def test_a_job_out_of_attempts_fails_with_a_reason_and_staff_can_run_it_again(
    worker_app, database_url, tmp_path, make
):
    key = "test.recovery.failed"
    admin = make.user("admin")
    _db.session.commit()
    job_id = _start_and_kill(worker_app, database_url, tmp_path, key)
    second = _worker(worker_app, database_url, tmp_path, JOB_MAX_ATTEMPTS="1")
    try:
        job = processes.wait_for(
            lambda: (j := _job(worker_app, job_id)).status == JobStatus.FAILED.value and j, 60, "the failure"
        )
        assert "worker stopped during attempt 1" in job.error
        client = worker_app.test_client()
        client.post("/login", data={"login": admin.login, "password": factories.PASSWORD})
        with worker_app.app_context():
            _db.session.execute(update(Job).where(Job.id == job_id).values(created_by_id=admin.id))
            _db.session.commit()
        page = client.get(f"/jobs/{job_id}")
        assert "worker stopped during attempt 1" in page.get_data(as_text=True)
        assert client.post(f"/jobs/{job_id}/retry").status_code == 302
        job = processes.wait_for(
            lambda: (j := _job(worker_app, job_id)).status == JobStatus.FINISHED.value and j, 60, "the rerun"
        )
        assert job.result == {"attempt": 2}
    finally:
        processes.stop(second)
    with worker_app.app_context():
        assert get_setting(_db.session, key, None) == 1
