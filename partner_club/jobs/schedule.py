"""Periodic work without cron: a registry of tasks and the slots they run in.

Each task is a job function ("module:function", taking a `JobContext`) with a
period (`every`) and, optionally, an hour of the day its slots start at (`at`,
UTC). Time is cut into slots; a task runs once per slot. Whoever comes first
claims the slot by inserting (name, slot_at) into `periodic_runs` under a unique
constraint, and enqueues the job in the same transaction: two web processes or
workers racing for a slot make one row and one job.

Who looks at the clock:

- with Redis, every `flask worker`: rq's own scheduler (`with_scheduler`) wakes
  `tick` at each task's next slot (`enqueue_at`, one scheduled rq job per task and
  slot, however many workers ask), and the worker's sweep thread re-arms them;
- without Redis, a thread of the serving web process (`start_in_process`), started
  with its first request; never in tests or command-line runs.

A missed slot (everything was down) runs once when the club comes back, not once
per missed slot. Tasks must be safe to run again (every job is).
"""

from __future__ import annotations

import logging
import threading
import time as clock
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from partner_club.database import utcnow
from partner_club.extensions import db
from partner_club.jobs.models import Job, PeriodicRun
from partner_club.jobs.services import enqueue_path, queue

log = logging.getLogger(__name__)
EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday: weekly slots start on Mondays


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str  # "package.module:function", a job function
    every: timedelta
    at: time | None = None  # where in the day (UTC) the slots start; None: midnight
    title: Any = ""  # a lazy_gettext string

    @property
    def _origin(self) -> datetime:
        at = self.at or time(0)
        return EPOCH + timedelta(hours=at.hour, minutes=at.minute)

    def slot(self, now: datetime) -> datetime:
        """The start of the slot `now` is in."""
        return self._origin + ((now - self._origin) // self.every) * self.every

    def next_slot(self, now: datetime) -> datetime:
        return self.slot(now) + self.every


PERIODIC: dict[str, Periodic] = {}


def register_periodic(
    name: str, *, every: timedelta, func: str, at: time | None = None, title: Any = ""
) -> Periodic:
    task = Periodic(name=name, func=func, every=every, at=at, title=title or name)
    PERIODIC[name] = task
    return task


# The club's periodic work. A package adds its task with one line here (a string, so the
# core imports no domain package); the function is a job function like any other.
register_periodic(
    "points.expire",
    every=timedelta(days=1),
    at=time(2, 0),
    func="partner_club.ledger.jobs:expire_points",
    title=_l("Expire points, announce expiry"),
)
register_periodic(
    "reports.send_due",
    every=timedelta(hours=1),
    func="reports.jobs:send_due_reports",
    title=_l("Send the due report e-mails"),
)
register_periodic(
    "reports.fold",
    every=timedelta(minutes=15),
    func="reports.jobs:fold_registrations",
    title=_l("Fold registrations into the rollups"),
)
register_periodic(
    "catalog.retry",
    every=timedelta(minutes=15),
    func="catalog.jobs:retry_waiting_orders",
    title=_l("Retry gift-card providers"),
)
register_periodic(
    "fraud.escalate",
    every=timedelta(hours=1),
    func="fraud.jobs:escalate_overdue_cases",
    title=_l("Escalate overdue review cases"),
)
register_periodic(
    "jobs.sweep",
    every=timedelta(minutes=15),
    func="partner_club.jobs.services:sweep_job",
    title=_l("Requeue jobs whose worker died"),
)
register_periodic(
    "notifications.deliver_due",
    every=timedelta(minutes=5),
    func="partner_club.notifications.jobs:deliver_due",
    title=_l("Deliver messages whose morning or retry has come"),
)
register_periodic(
    "mailings.send_due",
    every=timedelta(minutes=5),
    func="partner_club.mailings.jobs:send_due",
    title=_l("Start the scheduled mailings"),
)
register_periodic(
    "codes.prune_requests",
    every=timedelta(days=1),
    at=time(3, 30),
    func="codes.jobs:prune_registration_requests",
    title=_l("Forget month-old answers to the app's resends"),
)
register_periodic(
    "campaigns.end_due",
    every=timedelta(minutes=15),
    func="partner_club.campaigns.jobs:end_due",
    title=_l("End the campaigns whose period is over"),
)


def claim(session: Session, task: Periodic, slot: datetime) -> Job | None:
    """Claims `slot` of `task` and enqueues its job; None when someone else has it.

    Runs in the caller's transaction: the job starts after the commit, and a rollback
    frees the slot again.
    """
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    run_id = session.execute(
        insert(PeriodicRun.__table__)
        .values(name=task.name, slot_at=slot, claimed_at=utcnow())
        .on_conflict_do_nothing(index_elements=["name", "slot_at"])
        .returning(PeriodicRun.__table__.c.id)
    ).scalar()
    if run_id is None:
        return None
    job = enqueue_path(session, task.func, title=str(task.title))
    session.get_one(PeriodicRun, run_id).job_id = job.id
    session.flush()
    return job


def due_tasks(session: Session, now: datetime) -> list[tuple[Periodic, datetime]]:
    """Tasks whose current slot nobody has claimed yet."""
    last = dict(
        session.execute(
            select(PeriodicRun.name, func.max(PeriodicRun.slot_at)).group_by(PeriodicRun.name)
        ).all()
    )
    out = []
    for task in PERIODIC.values():
        slot = task.slot(now)
        if last.get(task.name) is None or last[task.name] < slot:
            out.append((task, slot))
    return out


def run_due(session: Session, now: datetime) -> list[str]:
    """Claims and enqueues every task whose slot has come; the names it started."""
    started = [task.name for task, slot in due_tasks(session, now) if claim(session, task, slot) is not None]
    return started


def tick() -> list[str]:
    """One look at the clock, in its own transaction (an rq job, or the in-process loop)."""
    started = run_due(db.session(), utcnow())
    db.session.commit()
    if current_app.config.get("REDIS_URL"):
        arm(current_app._get_current_object())  # type: ignore[attr-defined]
    return started


def rq_job_id(task: Periodic, slot: datetime) -> str:
    """One scheduled rq job per task and slot, whichever worker asks (rq ids: letters, digits, - and _)."""
    return f"periodic-{task.name.replace('.', '_')}-{slot:%Y%m%dT%H%M}"


def arm(app: Flask) -> None:
    """Asks rq's scheduler to run `tick` at each task's next slot (idempotent: fixed job ids)."""
    rq_queue = queue(app)
    now = utcnow()
    for task in PERIODIC.values():
        at = task.next_slot(now)
        rq_queue.enqueue_at(at, tick, job_id=rq_job_id(task, at), result_ttl=600, failure_ttl=86400)


# --- the in-process scheduler of the embedded default ---------------------------------

_STARTED: set[int] = set()
_LOCK = threading.Lock()


def start_in_process(app: Flask) -> bool:
    """Starts the scheduler thread of this process once; False when it is not wanted here."""
    if app.config.get("REDIS_URL") or not app.config.get("PERIODIC_IN_PROCESS", True) or app.testing:
        return False
    if id(app) in _STARTED:
        return False
    with _LOCK:
        if id(app) in _STARTED:
            return False
        _STARTED.add(id(app))
    threading.Thread(target=_loop, args=(app,), name="periodic", daemon=True).start()
    return True


def _loop(app: Flask) -> None:
    every = float(app.config.get("PERIODIC_TICK_SECONDS", 30))
    while True:
        with app.app_context():
            try:
                tick()
            except (SQLAlchemyError, RedisError):
                log.warning("periodic tick failed; next try in %s s", every, exc_info=True)
            except Exception:  # a bug in one task must not stop every later one
                log.exception("periodic tick failed unexpectedly; next try in %s s", every)
            finally:
                db.session.remove()
        clock.sleep(every)


def overview(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Each task with its last run (and that run's job) and its next slot, for staff."""
    rows = []
    for task in PERIODIC.values():
        last = session.scalars(
            select(PeriodicRun)
            .where(PeriodicRun.name == task.name)
            .order_by(PeriodicRun.slot_at.desc())
            .limit(1)
        ).first()
        job = session.get(Job, last.job_id) if last is not None and last.job_id else None
        rows.append({"task": task, "last": last, "job": job, "next": task.next_slot(now)})
    return rows
