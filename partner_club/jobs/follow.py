"""A command that queued a job follows it: with in-process jobs it prints the progress
until the job ends; with Redis it says where to watch and leaves the work to a worker."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import current_app

from partner_club.extensions import db
from partner_club.jobs.models import Job, JobStatus

DONE = (JobStatus.FINISHED.value, JobStatus.FAILED.value)


def follow_job(job_id: int, echo: Callable[[str], None], *, every: float = 0.5) -> Job | None:
    """The finished (or failed) job; None when a worker runs it (REDIS_URL set)."""
    if current_app.config.get("REDIS_URL"):
        echo(f"job {job_id} queued: watch it at /jobs/{job_id}; a worker (flask worker) runs it")
        return None
    last: tuple[Any, ...] = ()
    while True:
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        state = (job.status, job.done, job.total)
        if state != last:
            last = state
            echo(f"job {job_id}: {job.done}/{job.total} {job.message}".rstrip())
        if job.status in DONE:
            return job
        db.session.rollback()  # end the read transaction, so the next look sees the job's commits
        time.sleep(every)
