"""A job's progress, as a page and as JSON for the page's progress bar."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from partner_club.accounts.access import EVERYTHING, roles_required
from partner_club.accounts.models import Role
from partner_club.database import utcnow
from partner_club.extensions import db
from partner_club.jobs import schedule
from partner_club.jobs.models import Job
from partner_club.jobs.services import retry
from partner_club.nav import NavItem
from partner_club.web import commits

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
bp.nav = [NavItem("jobs.periodic", _l("Periodic tasks"), frozenset(EVERYTHING), 79)]


@bp.before_app_request
def _start_periodic_work() -> None:
    # The embedded default's scheduler lives in the serving process: started by its first
    # request (after any fork of the server), never by a command or a test.
    schedule.start_in_process(current_app._get_current_object())  # type: ignore[attr-defined]


def _visible_job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None:
        abort(404)
    if job.created_by_id != current_user.id and current_user.role != Role.ADMIN.value:
        abort(404)
    return job


@bp.get("/periodic")
@roles_required(*EVERYTHING)
def periodic():
    return render_template(
        "jobs/periodic.html",
        rows=schedule.overview(db.session, utcnow()),
        with_redis=bool(current_app.config.get("REDIS_URL")),
    )


@bp.get("/<int:job_id>")
@login_required
def show(job_id: int):
    return render_template("jobs/job.html", job=_visible_job(job_id))


@bp.post("/<int:job_id>/retry")
@login_required
@commits
def retry_failed(job_id: int):
    job = _visible_job(job_id)
    if current_user.role == Role.HEAD_OFFICE.value:
        abort(403)  # head office reads; it never starts work
    if job.status != "failed":
        abort(409)
    retry(db.session, job)
    flash(_("The job will run again."), "info")
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.get("/<int:job_id>.json")
@login_required
def status(job_id: int):
    job = _visible_job(job_id)
    return jsonify(
        {
            "id": job.id,
            "status": job.status,
            "done": job.done,
            "total": job.total,
            "percent": job.percent,
            "message": job.message,
            "result": job.result if job.is_over else None,
            "error": bool(job.error),
        }
    )
