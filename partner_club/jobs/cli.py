"""`flask worker`: an rq worker with the app built once, which also runs the periodic tasks
(`jobs/schedule.py`) through rq's scheduler; `flask jobs sweep` and `flask jobs schedule` by hand."""

from __future__ import annotations

import json
import logging
import threading
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from sqlalchemy.exc import SQLAlchemyError

from partner_club.database import utcnow
from partner_club.extensions import db
from partner_club.jobs import schedule
from partner_club.jobs.services import queue, sweep

log = logging.getLogger(__name__)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run background jobs from Redis (needs REDIS_URL)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("REDIS_URL"):
        raise click.ClickException("Set REDIS_URL: without Redis, jobs run inside the web process.")
    if not burst:
        _arm_periodic(app, catch_up=True)
        threading.Thread(target=_sweep_forever, args=(app,), daemon=True).start()
    while True:
        # A connection of its own, without the web side's short read timeout: rq blocks on it.
        connection = Redis.from_url(
            app.config["REDIS_URL"], socket_connect_timeout=5, health_check_interval=30
        )
        job_queue = Queue(app.config["RQ_QUEUE"], connection=connection)
        # No fork per job: the app, its engine and its pool are built once.
        rq_worker = SimpleWorker([job_queue], connection=connection)
        try:
            rq_worker.work(burst=burst, with_scheduler=not burst)
        except RedisError as error:  # Redis went away between jobs
            log.warning("worker lost Redis (%s); reconnecting in 5 s", error)
        else:
            # rq also returns, after logging it, when Redis went away in the middle of a job;
            # only a burst or a stop signal (SIGTERM, Ctrl-C) ends this worker.
            if burst or rq_worker._stop_requested:
                return
            log.warning("worker stopped without being asked to; reconnecting in 5 s")
        time.sleep(5)


def _sweep_forever(app: Flask) -> None:
    every = float(app.config.get("JOB_SWEEP_SECONDS", 30))
    while True:
        try:
            sweep(app)
            _arm_periodic(app)  # should Redis have lost the scheduled ticks
        except (RedisError, SQLAlchemyError):
            log.warning("job sweep failed; next try in %s s", every, exc_info=True)
        except Exception:  # the sweep thread must outlive a bug in one pass
            log.exception("job sweep failed unexpectedly; next try in %s s", every)
        time.sleep(every)


def _arm_periodic(app: Flask, *, catch_up: bool = False) -> None:
    try:
        schedule.arm(app)
        if catch_up:  # a slot missed while no worker ran goes now
            queue(app).enqueue(schedule.tick, result_ttl=600)
    except RedisError:
        log.warning("could not arm the periodic tasks; the sweep tries again", exc_info=True)


@click.group("jobs")
def jobs() -> None:
    """Background jobs."""


@jobs.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Dispatch jobs Redis missed and requeue or fail jobs whose worker died."""
    click.echo(json.dumps(sweep(current_app._get_current_object())))  # type: ignore[attr-defined]


@jobs.command("schedule")
@click.option("--run", is_flag=True, help="Claim and start the tasks whose slot has come.")
@with_appcontext
def schedule_command(run: bool) -> None:
    """List the periodic tasks with their last and next run (or start the due ones)."""
    if run:
        click.echo(json.dumps({"started": schedule.tick()}))
        return
    for row in schedule.overview(db.session, utcnow()):
        last = row["last"].slot_at.isoformat() if row["last"] else "never"
        status = row["job"].status if row["job"] else ""
        click.echo(f"{row['task'].name:20} last {last} {status:9} next {row['next'].isoformat()}")
