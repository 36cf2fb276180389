"""Fraud pages: the review queue, a case, detector settings with backtests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

import fraud.hooks  # noqa: F401 - connects fraud to the registration signals
from codes.scan_services import review_photos_of
from fraud import home as fraud_home
from fraud import review
from fraud.addresses import other_accounts_on_address
from fraud.backtest import backtest
from fraud.detectors import DETECTORS
from fraud.models import CaseStatus, ReviewCase
from fraud.review import REVIEWER_ROLES
from fraud.services import describe_reason, load_config, save_config, validate_config
from partner_club.accounts.access import can_see_user, roles_required
from partner_club.accounts.models import Role, User
from partner_club.database import utcnow
from partner_club.errors import DomainError
from partner_club.extensions import db
from partner_club.nav import NavItem
from partner_club.web import commits, refuse

bp = Blueprint("fraud", __name__, url_prefix="/fraud")
bp.nav = [
    NavItem("fraud.queue", _l("Fraud review"), REVIEWER_ROLES, 60),
    NavItem("fraud.settings", _l("Fraud rules"), frozenset({Role.ADMIN}), 61),
]
bp.home_cards = fraud_home.CARDS
STATUSES = {"open": _l("open"), "approved": _l("approved"), "rejected": _l("rejected"), "all": _l("all")}
PAGE = 50


@bp.app_template_filter("fraud_reason")
def _reason_filter(reason: dict[str, Any]) -> str:
    return describe_reason(reason)


@bp.get("/")
@roles_required(*REVIEWER_ROLES)
def queue():
    status = request.args.get("status", "open")
    if status not in STATUSES:
        status = "open"
    page = max(1, request.args.get("page", 1, type=int))
    query = review.cases_query(current_user, status=status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    cases = db.session.scalars(query.offset((page - 1) * PAGE).limit(PAGE)).all()
    flagged = (
        review.flagged_people(db.session, current_user, since=utcnow() - timedelta(days=7))
        if status == "open" and page == 1
        else []
    )
    return render_template(
        "fraud/queue.html",
        cases=cases,
        status=status,
        statuses=STATUSES,
        page=page,
        total=total,
        pages=max(1, -(-total // PAGE)),
        flagged=flagged,
    )


@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@roles_required(*REVIEWER_ROLES)
@commits
def person(user_id: int):
    found = db.session.get(User, user_id)
    if found is None or not can_see_user(current_user, found) or not found.is_participant:
        abort(404)
    error = None
    if request.method == "POST":
        try:
            review.block_participant(
                db.session, found, reviewer=current_user, note=request.form.get("note", "")
            )
        except DomainError as refusal:
            error = refuse(refusal)
        else:
            flash(_("%(name)s is blocked.", name=found.display_name), "success")
            return redirect(url_for("fraud.person", user_id=found.id))
    history = review.participant_history(db.session, found.id, limit=100)
    return render_template(
        "fraud/person.html", person=found, history=history, error=error
    ), 422 if error else 200


def _case_or_404(case_id: int) -> ReviewCase:
    case = db.session.get(ReviewCase, case_id)
    if case is None or not review.can_review(db.session, current_user, case):
        abort(404)
    return case


@bp.get("/cases/<int:case_id>")
@roles_required(*REVIEWER_ROLES)
def case(case_id: int):
    found = _case_or_404(case_id)
    return _case_page(found, None)


def _case_page(found: ReviewCase, error: str | None):
    history = review.participant_history(db.session, found.participant_id)
    photos = review_photos_of(db.session, found.registration_id) if found.registration_id else []
    shared = other_accounts_on_address(db.session, found.observation)
    return render_template(
        "fraud/case.html",
        case=found,
        obs=found.observation,
        history=history,
        photos=photos,
        error=error,
        shared=shared,
    )


@bp.post("/cases/<int:case_id>")
@roles_required(*REVIEWER_ROLES)
@commits
def decide(case_id: int):
    found = _case_or_404(case_id)
    try:
        review.decide_case(
            db.session,
            found,
            reviewer=current_user,
            decision=request.form.get("decision", ""),
            note=request.form.get("note", ""),
            action=request.form.get("action", "none"),
        )
    except DomainError as error:
        return _case_page(_case_or_404(case_id), refuse(error)), 422
    flash(
        _("Approved: the points are active.")
        if found.status == CaseStatus.APPROVED.value
        else _("Rejected: the points are removed."),
        "success",
    )
    return redirect(url_for("fraud.queue"))


def _bulk_scope(case_id: int, kind: str) -> tuple[ReviewCase, review.BulkScope]:
    found = _case_or_404(case_id)
    if kind not in review.BULK_KINDS:
        abort(404)
    return found, review.BulkScope.around(found, kind)


@bp.get("/cases/<int:case_id>/bulk/<kind>")
@roles_required(*REVIEWER_ROLES)
def bulk(case_id: int, kind: str):
    """What deciding the whole roll, batch or person would do: cases, people, points; then confirm."""
    try:
        found, scope = _bulk_scope(case_id, kind)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("fraud.case", case_id=case_id))
    summary = review.bulk_summary(db.session, current_user, scope)
    return render_template("fraud/bulk.html", case=found, kind=kind, summary=summary, error=None)


@bp.post("/cases/<int:case_id>/bulk/<kind>")
@roles_required(*REVIEWER_ROLES)
@commits
def bulk_decide(case_id: int, kind: str):
    found, scope = _bulk_scope(case_id, kind)
    decision = request.form.get("decision", "")
    try:
        done = review.decide_bulk(
            db.session,
            scope,
            reviewer=current_user,
            decision=decision,
            expected_cases=request.form.get("expected", -1, type=int),
            note=request.form.get("note", ""),
            action=request.form.get("action", "none"),
        )
    except DomainError as error:
        message = refuse(error)
        summary = review.bulk_summary(db.session, current_user, scope)
        return render_template("fraud/bulk.html", case=found, kind=kind, summary=summary, error=message), 422
    if decision == "accept":
        message = _(
            "Approved %(cases)d cases: %(points)d points are active.", cases=done.cases, points=done.points
        )
    else:
        message = _(
            "Rejected %(cases)d cases: %(points)d points are removed.", cases=done.cases, points=done.points
        )
    flash(message, "success")
    return redirect(url_for("fraud.queue"))


def _form_config(form) -> dict[str, Any]:
    detectors = {}
    for name, detector in DETECTORS.items():
        detectors[name] = {
            "enabled": form.get(f"{name}.enabled") == "on",
            "params": {key: form[f"{name}.{key}"] for key in detector.params if f"{name}.{key}" in form},
        }
    values = {key: form[key] for key in ("hold_score", "reject_score", "utc_offset_hours") if key in form}
    return dict(values, detectors=detectors)


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@commits
def settings():
    config, values, problems, result = load_config(db.session), None, [], None
    if request.method == "POST":
        values = _form_config(request.form)
        tried = request.form.get("backtest")
        try:
            if tried in DETECTORS:
                trial = validate_config(values)
                result = backtest(
                    db.session,
                    trial,
                    tried,
                    trial.params[tried],
                    days=min(365, max(1, request.form.get("days", 30, type=int) or 30)),
                )
            else:
                config = save_config(db.session, values, actor=current_user)
                flash(_("Fraud rules saved."), "success")
                return redirect(url_for("fraud.settings"))
        except DomainError as error:
            problems = error.details.get("problems") or [refuse(error)]
    shown = values or config.as_json()
    return render_template(
        "fraud/settings.html", detectors=DETECTORS, values=shown, problems=problems, result=result
    ), (422 if problems else 200)
