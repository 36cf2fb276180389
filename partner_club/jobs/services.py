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
from datetime import timedelta
from typing import Any, cast

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, get_current_job
from sqlalchemy import CursorResult, event, select, update
from sqlalchemy.exc import SQLAlchemyError
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
    return enqueue_path(session, func_path(func), title=title, created_by_id=created_by_id, **kwargs)


def enqueue_path(
    session: Session, function: str, /, *, title: str = "", created_by_id: int | None = None, **kwargs: Any
) -> Job:
    """`enqueue` for a function named "module:function" (the periodic registry names them so).
    Positional-only, so that a job's own arguments may be called `path` or `session`."""
    job = Job(func=function, title=title, args=kwargs, created_by_id=created_by_id)
    session.add(job)
    session.flush()
    session.info.setdefault(_PENDING, []).append(job.id)
    return job


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    job_ids = session.info.pop(_PENDING, None)
    if job_ids:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        sent = [dispatch(app, job_id) for job_id in job_ids]
        if app.config.get("REDIS_URL") and all(sent):
            _dispatch_waiting(app)  # Redis is back: what it missed goes now, not at the next sweep


def _dispatch_waiting(app: Flask) -> int:
    """Dispatches queued jobs Redis never received; stops at the first refusal."""
    with Session(db.engine) as side:
        waiting = side.scalars(
            select(Job.id)
            .where(Job.status == JobStatus.QUEUED.value, Job.dispatched_at.is_(None))
            .order_by(Job.id)
        ).all()
    sent = 0
    for job_id in waiting:
        if not dispatch(app, job_id):
            break  # Redis is still down; the next sweep tries again
        sent += 1
    return sent


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, _previous) -> None:
    # Every rollback() call, even with no SQL sent; a savepoint's rollback
    # leaves the outer transaction (and its pending work) alone.
    if not session.in_transaction():
        session.info.pop(_PENDING, None)


def dispatch(app: Flask, job_id: int) -> bool:
    """Hands a committed job to Redis (or to a thread); False when Redis cannot take it now.

    A job Redis could not take stays queued with no `dispatched_at`: `sweep` sends it when
    Redis answers again, so an order or a registration never fails for want of a queue.
    A row sent twice (a sweep racing an enqueue, rq's own clean-up of a dead worker) still
    runs once: `_claim` lets only one worker move it from queued to running.
    """
    if not app.config.get("REDIS_URL"):
        _mark_dispatched(job_id)
        # A thread of its own: it gets its own app context and session, since
        # the committing session can emit no SQL inside this hook.
        worker = threading.Thread(target=run_job_in_app, args=(app, job_id), daemon=True)
        worker.start()
        if app.config.get("JOBS_INPROCESS") == "sync":
            worker.join()
        return True
    try:
        queue(app).enqueue(
            run_job,
            job_id,
            job_timeout=6 * 3600,
            result_ttl=3600,
            retry=_retry(app),
        )
    except RedisError as error:
        log.warning("job %s stays queued in the database: Redis is unavailable (%s)", job_id, error)
        return False
    _mark_dispatched(job_id)
    return True


def _mark_dispatched(job_id: int) -> None:
    with Session(db.engine) as side:
        side.execute(update(Job).where(Job.id == job_id).values(dispatched_at=utcnow()))
        side.commit()


def _retry(app: Flask) -> Retry | None:
    intervals = list(app.config.get("JOB_RETRY_INTERVALS", (10, 60, 300)))
    return Retry(max=len(intervals), interval=intervals) if intervals else None


def queue(app: Flask) -> Queue:
    connection = app.extensions.get("partner_club.redis")
    if connection is None:
        # Short timeouts: with Redis down a request must not hang on the queue.
        connection = Redis.from_url(
            app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5, health_check_interval=30
        )
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


def _claim(job_id: int) -> bool:
    """Marks a queued job running; False if another worker (or an earlier try) has it."""
    now = utcnow()
    # An UPDATE's result is a CursorResult (it has the rowcount); Session.execute is typed Result.
    claimed = cast(
        CursorResult[Any],
        db.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.QUEUED.value)
            .values(
                status=JobStatus.RUNNING.value, started_at=now, heartbeat_at=now, attempts=Job.attempts + 1
            ),
        ),
    ).rowcount
    db.session.commit()
    return claimed == 1


def _run_job(job_id: int) -> None:
    if not _claim(job_id):
        return
    job = db.session.get_one(Job, job_id)
    module_name, _, attr = job.func.partition(":")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _Heartbeat(app, job_id):
        try:
            func = getattr(importlib.import_module(module_name), attr)
            result = func(JobContext(job_id), **job.args)
        except Exception:  # a job's failure is recorded, never lost
            db.session.rollback()
            log.exception("job %s failed", job_id)
            _record_failure(job_id, traceback.format_exc()[-4000:])
            raise_for_retry = _rq_retries_left() > 0
            if raise_for_retry:
                raise  # rq's Retry runs it again after its back-off
            return
    job = db.session.get_one(Job, job_id)
    db.session.refresh(job)
    job.status = JobStatus.FINISHED.value
    job.result = result if isinstance(result, dict) else {"value": result}
    job.error = None
    job.finished_at = utcnow()
    if job.total and job.done < job.total:
        job.done = job.total
    db.session.commit()


def _rq_retries_left() -> int:
    rq_job = get_current_job()
    return (rq_job.retries_left or 0) if rq_job is not None else 0


def _record_failure(job_id: int, error: str) -> None:
    """Failed for good, or back to queued when rq will try again."""
    job = db.session.get_one(Job, job_id)
    job.error = error
    if _rq_retries_left() > 0:
        job.status = JobStatus.QUEUED.value
        job.message = f"attempt {job.attempts} failed; trying again"[:500]
    else:
        job.status = JobStatus.FAILED.value
        job.finished_at = utcnow()
    db.session.commit()


class _Heartbeat:
    """Writes `heartbeat_at` every few seconds while a job runs, from a thread of its own."""

    def __init__(self, app: Flask, job_id: int) -> None:
        self.app, self.job_id = app, job_id
        self.every = float(app.config.get("JOB_HEARTBEAT_SECONDS", 10))
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopped.set()
        self.thread.join()

    def _beat(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                with self.app.app_context(), Session(db.engine) as side:
                    side.execute(update(Job).where(Job.id == self.job_id).values(heartbeat_at=utcnow()))
                    side.commit()
            except SQLAlchemyError:  # a busy database skips a beat; the next one counts
                log.warning("heartbeat of job %s skipped", self.job_id, exc_info=True)


def sweep(app: Flask) -> dict[str, int]:
    """Finds jobs nobody is working on and sends them (again), or fails them with a reason.

    Run by every `flask worker` every few seconds and by the periodic `jobs.sweep` (or `flask jobs sweep` by hand):
    - queued jobs Redis never received (it was down) are dispatched now;
    - running jobs whose heartbeat stopped (their worker was killed or lost) are queued again,
      up to JOB_MAX_ATTEMPTS tries, then marked failed with the reason.
    """
    stale_after = timedelta(seconds=float(app.config.get("JOB_STALE_SECONDS", 120)))
    max_attempts = int(app.config.get("JOB_MAX_ATTEMPTS", 3))
    counts = {"dispatched": 0, "requeued": 0, "failed": 0}
    with app.app_context(), Session(db.engine) as side:
        stale = side.scalars(
            select(Job).where(
                Job.status == JobStatus.RUNNING.value, Job.heartbeat_at < utcnow() - stale_after
            )
        ).all()
        requeue = []
        for job in stale:
            reason = f"the worker stopped during attempt {job.attempts} (no heartbeat since {job.heartbeat_at:%H:%M:%S} UTC)"
            if job.attempts < max_attempts:
                job.status, job.message, job.dispatched_at = JobStatus.QUEUED.value, reason[:500], None
                requeue.append(job.id)
                counts["requeued"] += 1
            else:
                job.status, job.error, job.finished_at = JobStatus.FAILED.value, reason, utcnow()
                counts["failed"] += 1
            log.warning("job %s: %s", job.id, reason)
        side.commit()
        counts["dispatched"] = _dispatch_waiting(app)
    return counts


def sweep_job(ctx: JobContext) -> dict[str, int]:
    """The sweep as a periodic job (the in-process scheduler's; workers also sweep on their own)."""
    return sweep(current_app._get_current_object())  # type: ignore[attr-defined]


def retry(session: Session, job: Job) -> None:
    """Staff's retry of a failed job: the same row runs again after the commit."""
    if job.status != JobStatus.FAILED.value:
        raise ValueError("only a failed job can be retried")
    job.status, job.message, job.dispatched_at, job.finished_at = JobStatus.QUEUED.value, "", None, None
    session.flush()
    session.info.setdefault(_PENDING, []).append(job.id)
