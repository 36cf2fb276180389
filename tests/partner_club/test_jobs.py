"""Background jobs: start only after commit, report progress, record failures."""

from __future__ import annotations

import pytest

from partner_club.extensions import db as _db
from partner_club.jobs.models import Job, JobStatus
from partner_club.jobs.services import JobContext, enqueue
from partner_club.settings_store import get_setting, put_setting


def count_to(ctx: JobContext, *, upto: int, key: str) -> dict:
    """A job for the tests: counts, reports progress, and leaves a setting behind."""
    for n in range(1, upto + 1):
        ctx.progress(n, upto, f"step {n}")
    put_setting(_db.session, key, upto)
    _db.session.commit()
    return {"counted": upto}


def explode(ctx: JobContext) -> None:
    raise RuntimeError("boom")


def test_job_runs_after_commit_and_finishes_with_result(db, work_jobs):
    job = enqueue(db.session, count_to, title="Count", upto=3, key="test.counted")
    assert job.status == JobStatus.QUEUED.value
    db.session.commit()
    work_jobs()
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.FINISHED.value
    assert (job.done, job.total, job.result) == (3, 3, {"counted": 3})
    assert get_setting(db.session, "test.counted", None) == 3


def test_rolled_back_job_never_runs(db, work_jobs):
    enqueue(db.session, count_to, upto=2, key="test.never")
    db.session.rollback()
    work_jobs()
    assert db.session.query(Job).count() == 0
    assert get_setting(db.session, "test.never", None) is None


def test_failing_job_is_recorded_as_failed(app, db, work_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "JOB_RETRY_INTERVALS", [])
    job = enqueue(db.session, explode)
    db.session.commit()
    work_jobs()
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.status == JobStatus.FAILED.value
    assert "boom" in job.error


def fail_first_time(ctx: JobContext, *, key: str) -> dict:
    tries = get_setting(_db.session, key, 0) + 1
    put_setting(_db.session, key, tries)
    _db.session.commit()
    if tries == 1:
        raise RuntimeError("a passing hiccup")
    return {"tries": tries}


def test_a_failing_job_is_retried_by_rq(app, db, work_jobs, redis_url, monkeypatch):
    if not redis_url:
        pytest.skip("rq's Retry needs Redis; in-process jobs fail at once")
    monkeypatch.setitem(app.config, "JOB_RETRY_INTERVALS", [0])
    job = enqueue(db.session, fail_first_time, key="test.hiccup")
    db.session.commit()
    work_jobs()
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert (job.status, job.result, job.attempts) == (JobStatus.FINISHED.value, {"tries": 2}, 2)
    assert job.error is None


def test_job_status_page_is_only_for_its_creator(client, make, login, db):
    owner = make.user("admin")
    other = make.user("rep")
    job = enqueue(db.session, count_to, created_by_id=other.id, upto=1, key="test.page")
    db.session.commit()
    login(owner)  # admins see every job
    assert client.get(f"/jobs/{job.id}.json").status_code == 200
    client.post("/logout")
    third = make.user("rep")
    db.session.commit()
    login(third)
    assert client.get(f"/jobs/{job.id}.json").status_code == 404
