"""`flask worker`: an rq worker with the app built once; `flask jobs sweep` for cron."""

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

from partner_club.jobs.services import sweep

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
        threading.Thread(target=_sweep_forever, args=(app,), daemon=True).start()
    while True:
        # A connection of its own, without the web side's short read timeout: rq blocks on it.
        connection = Redis.from_url(
            app.config["REDIS_URL"], socket_connect_timeout=5, health_check_interval=30
        )
        job_queue = Queue(app.config["RQ_QUEUE"], connection=connection)
        try:
            # No fork per job: the app, its engine and its pool are built once.
            SimpleWorker([job_queue], connection=connection).work(burst=burst, with_scheduler=not burst)
            return
        except RedisError as error:  # Redis went away between jobs: wait, then start again
            log.warning("worker lost Redis (%s); reconnecting in 5 s", error)
            time.sleep(5)


def _sweep_forever(app: Flask) -> None:
    every = float(app.config.get("JOB_SWEEP_SECONDS", 30))
    while True:
        try:
            sweep(app)
        except (RedisError, SQLAlchemyError):
            log.warning("job sweep failed; next try in %s s", every, exc_info=True)
        time.sleep(every)


@click.group("jobs")
def jobs() -> None:
    """Background jobs."""


@jobs.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Dispatch jobs Redis missed and requeue or fail jobs whose worker died."""
    click.echo(json.dumps(sweep(current_app._get_current_object())))  # type: ignore[attr-defined]
