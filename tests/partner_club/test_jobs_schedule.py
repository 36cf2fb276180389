"""Periodic tasks: one run per slot, whoever races for it; started by the right process."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partner_club.extensions import db as _db
from partner_club.jobs import schedule
from partner_club.jobs.models import Job, PeriodicRun


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_slots_are_cut_from_the_clock():
    daily = schedule.Periodic("t", "m:f", timedelta(days=1), at=time(2, 0))
    assert daily.slot(utc(2026, 3, 4, 1, 59)) == utc(2026, 3, 3, 2)
    assert daily.slot(utc(2026, 3, 4, 2, 0)) == utc(2026, 3, 4, 2)
    assert daily.next_slot(utc(2026, 3, 4, 2, 0)) == utc(2026, 3, 5, 2)
    quarter = schedule.Periodic("q", "m:f", timedelta(minutes=15))
    assert quarter.slot(utc(2026, 3, 4, 10, 29, 59)) == utc(2026, 3, 4, 10, 15)


def test_the_registry_holds_the_clubs_periodic_work():
    assert {
        "points.expire",
        "reports.send_due",
        "reports.fold",
        "catalog.retry",
        "fraud.escalate",
        "jobs.sweep",
    } <= set(schedule.PERIODIC)
    for task in schedule.PERIODIC.values():  # every path names a real job function
        module, _, name = task.func.partition(":")
        assert callable(getattr(__import__(module, fromlist=[name]), name))


@pytest.fixture
def one_task(monkeypatch):
    """Only a harmless task in the registry, so the race is about the claim alone."""
    monkeypatch.setattr(schedule, "PERIODIC", {})
    schedule.register_periodic(
        "test.noop", every=timedelta(hours=1), func="tests.partner_club.test_jobs_schedule:noop"
    )
    return schedule.PERIODIC["test.noop"]


def noop(ctx) -> dict:
    return {"ok": True}


def test_a_slot_runs_once_and_the_next_slot_again(app, db, one_task, work_jobs):
    assert schedule.run_due(db.session, utc(2026, 3, 4, 10, 5)) == ["test.noop"]
    db.session.commit()
    assert schedule.run_due(db.session, utc(2026, 3, 4, 10, 55)) == []  # same slot
    assert schedule.run_due(db.session, utc(2026, 3, 4, 11, 0)) == ["test.noop"]
    db.session.commit()
    work_jobs()
    db.session.expire_all()
    jobs = db.session.scalars(select(Job).where(Job.func == one_task.func)).all()
    assert [j.status for j in jobs] == ["finished", "finished"]
    overview = schedule.overview(db.session, utc(2026, 3, 4, 11, 30))
    assert overview[0]["last"].slot_at == utc(2026, 3, 4, 11) and overview[0]["next"] == utc(2026, 3, 4, 12)


def test_two_schedulers_racing_for_a_slot_start_it_once(app, db, one_task, work_jobs):
    """Several processes' schedulers look at the clock at the same moment: one row, one job."""
    racers, barrier, errors = 6, threading.Barrier(6), []

    def race() -> None:
        with app.app_context(), Session(_db.engine) as session:
            barrier.wait()
            try:
                schedule.run_due(session, utc(2026, 3, 4, 10, 5))
                session.commit()
            except Exception as error:  # SQLite's writer lock may refuse a racer; never twice
                errors.append(error)
                session.rollback()

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runs = db.session.scalar(select(func.count()).select_from(PeriodicRun))
    jobs = db.session.scalar(select(func.count()).select_from(Job).where(Job.func == one_task.func))
    assert (runs, jobs) == (1, 1), errors


class _Stop(BaseException):
    """Ends the scheduler's endless loop in a test."""


def test_the_scheduler_loop_outlives_a_task_that_fails(app, monkeypatch):
    ticks = []

    def tick():
        ticks.append(len(ticks))
        if len(ticks) == 1:
            raise ValueError("a bug in one task")
        raise _Stop

    monkeypatch.setattr(schedule, "tick", tick)
    monkeypatch.setattr(schedule.clock, "sleep", lambda seconds: None)
    with pytest.raises(_Stop):
        schedule._loop(app)
    assert ticks == [0, 1]  # the loop went on after the failure


def test_no_scheduler_thread_in_tests_or_with_redis(app):
    assert schedule.start_in_process(app) is False  # TESTING


def test_staff_see_each_tasks_last_and_next_run(app, db, make, client, login):
    schedule.run_due(db.session, utc(2026, 3, 4, 10, 5))
    db.session.commit()
    login(make.user("admin"))
    page = client.get("/jobs/periodic").get_data(as_text=True)
    for name in schedule.PERIODIC:
        assert name in page
    assert page.count('href="/jobs/') >= len(schedule.PERIODIC)  # each last run links to its job
    rep_client = login(make.user("rep"), to=app.test_client())
    assert rep_client.get("/jobs/periodic").status_code == 403
