"""Periodic tasks through real rq workers: two `flask worker`s on one Redis start each slot once."""

from __future__ import annotations

import shutil
import uuid

import pytest
from redis import Redis
from rq import Queue
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from partner_club import create_app
from partner_club.database import utcnow
from partner_club.extensions import db as _db
from partner_club.jobs import schedule
from partner_club.jobs.models import Job, PeriodicRun
from tests import processes
from tests.conftest import _config

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")


@pytest.fixture
def redis_server():
    server = processes.RedisServer().start()
    yield server
    server.stop()


def _counts(app) -> tuple[dict[str, int], int]:
    with app.app_context():
        _db.session.expire_all()
        runs = dict(
            _db.session.execute(select(PeriodicRun.name, func.count()).group_by(PeriodicRun.name)).all()
        )
        open_jobs = _db.session.scalar(
            select(func.count())
            .select_from(Job)
            .where(
                Job.func.in_([t.func for t in schedule.PERIODIC.values()]),
                Job.status.in_(["queued", "running"]),
            )
        )
        return runs, open_jobs


def test_two_workers_start_every_task_once_and_arm_rqs_scheduler(
    app, db, database_url, redis_server, tmp_path
):
    queue_name = f"pc-periodic-{uuid.uuid4().hex[:6]}"
    worker_app = create_app(
        _config(database_url, redis_server.url, RQ_QUEUE=queue_name, RATELIMIT_STORAGE_URI="memory://")
    )
    env = processes.club_env(database_url, redis_server.url, RQ_QUEUE=queue_name, JOB_SWEEP_SECONDS="1")
    workers = [
        processes.start([*processes.FLASK, "worker"], env, tmp_path / f"worker{n}.log") for n in range(2)
    ]
    try:
        processes.wait_for(
            lambda: (c := _counts(worker_app))[0].keys() >= schedule.PERIODIC.keys() and c[1] == 0,
            90,
            "every periodic task to run",
        )
        runs, _open = _counts(worker_app)
        assert runs == dict.fromkeys(schedule.PERIODIC, 1)  # two workers, one run per task
        registry = ScheduledJobRegistry(queue=Queue(queue_name, connection=Redis.from_url(redis_server.url)))
        armed = set(registry.get_job_ids())
        expected = {schedule.rq_job_id(task, task.next_slot(utcnow())) for task in schedule.PERIODIC.values()}
        assert expected <= armed  # rq's scheduler holds each task's next tick, once
    finally:
        for worker in workers:
            processes.stop(worker)
    with worker_app.app_context():
        failed = _db.session.scalars(
            select(Job).where(
                Job.func.in_([t.func for t in schedule.PERIODIC.values()]), Job.status == "failed"
            )
        ).all()
        assert failed == [], [(j.func, (j.error or "")[-300:]) for j in failed]
