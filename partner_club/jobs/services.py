"""Background jobs: sent to rq after the transaction commits, or run in-process.

A job function lives in a domain package's `jobs.py`, takes keyword
arguments that are plain ids and values, and receives a `JobContext` as its
first argument to report progress. It is addressed by "module:function", so
the worker needs no registry and an import is all it takes to find it.
"""

from __future__ import annotations

import importlib
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from redis import Redis
from rq import Queue
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from partner_club.database import utcnow
from partner_club.extensions import db
from partner_club.jobs.models import Job, JobStatus

log = logging.getLogger(__name__)
_PENDING = "partner_club.pending_jobs"


def func_path(func: Callable[..., Any]) -> str:
    return f"{func.__module__}:{func.__qualname__}"


def enqueue(
    session: Session,
    func: Callable[..., Any],
    *,
    title: str = "",
    created_by_id: int | None = None,
    **kwargs: Any,
) -> Job:
    """Creates the job row now; the job itself starts after the commit.

    If the transaction rolls back, the job never starts and its row vanishes
    with the rest of the work.
    """
    job = Job(func=func_path(func), title=title, args=kwargs, created_by_id=created_by_id)
    session.add(job)
    session.flush()
    session.info.setdefault(_PENDING, []).append(job.id)
    return job


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    job_ids = session.info.pop(_PENDING, None)
    if job_ids:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        for job_id in job_ids:
            dispatch(app, job_id)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, _previous) -> None:
    # Every rollback() call, even with no SQL sent; a savepoint's rollback
    # leaves the outer transaction (and its pending work) alone.
    if not session.in_transaction():
        session.info.pop(_PENDING, None)


def dispatch(app: Flask, job_id: int) -> None:
    if app.config.get("REDIS_URL"):
        queue(app).enqueue(run_job, job_id, job_timeout=6 * 3600, result_ttl=3600)
    else:
        # A thread of its own: it gets its own app context and session, since
        # the committing session can emit no SQL inside this hook.
        worker = threading.Thread(target=run_job_in_app, args=(app, job_id), daemon=True)
        worker.start()
        if app.config.get("JOBS_INPROCESS") == "sync":
            worker.join()


def queue(app: Flask) -> Queue:
    connection = app.extensions.get("partner_club.redis")
    if connection is None:
        connection = Redis.from_url(app.config["REDIS_URL"])
        app.extensions["partner_club.redis"] = connection
    return Queue(app.config["RQ_QUEUE"], connection=connection)


def run_job_in_app(app: Flask, job_id: int) -> None:
    with app.app_context():
        run_job(job_id)


@dataclass
class JobContext:
    """Handed to a job function: its id and a way to report progress."""

    job_id: int

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        # Progress goes through its own short transaction so watchers see it
        # while the job's own work is still uncommitted.
        values: dict[str, Any] = {"done": done}
        if total is not None:
            values["total"] = total
        if message is not None:
            values["message"] = message[:500]
        with Session(db.engine) as side:
            side.execute(update(Job).where(Job.id == self.job_id).values(**values))
            side.commit()


def run_job(job_id: int) -> None:
    """Runs one job inside an application context (the rq worker's entry)."""
    try:
        _run_job(job_id)
    finally:
        db.session.remove()  # the worker's context lives on; the session must not


def _run_job(job_id: int) -> None:
    job = db.session.get(Job, job_id)
    if job is None or job.status != JobStatus.QUEUED.value:
        return
    job.status = JobStatus.RUNNING.value
    job.started_at = utcnow()
    db.session.commit()
    module_name, _, attr = job.func.partition(":")
    try:
        func = getattr(importlib.import_module(module_name), attr)
        result = func(JobContext(job_id), **job.args)
    except Exception:  # a job's failure is recorded, never lost
        db.session.rollback()
        log.exception("job %s failed", job_id)
        job = db.session.get(Job, job_id)
        job.status = JobStatus.FAILED.value
        job.error = traceback.format_exc()[-4000:]
        job.finished_at = utcnow()
        db.session.commit()
        return
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    job.status = JobStatus.FINISHED.value
    job.result = result if isinstance(result, dict) else {"value": result}
    job.finished_at = utcnow()
    if job.total and job.done < job.total:
        job.done = job.total
    db.session.commit()
