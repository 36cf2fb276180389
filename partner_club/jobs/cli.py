"""`flask worker`: an rq worker with the app built once."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from rq import SimpleWorker

from partner_club.jobs.services import queue


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run background jobs from Redis (needs REDIS_URL)."""
    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("Set REDIS_URL: without Redis, jobs run inside the web process.")
    job_queue = queue(current_app)
    # No fork per job: the app, its engine and its pool are built once.
    SimpleWorker([job_queue], connection=job_queue.connection).work(burst=burst)
