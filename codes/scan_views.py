"""The scanner pages: live camera, photo upload, bulk photo decoding.

The live page does its work in the browser (static/js/scanner/) against
POST /api/v1/scans; the photo form below also works without JavaScript.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from codes import scan_jobs
from codes.scan import decode_image
from codes.scan_api import rate_key, read_upload, registration_context, scan_rate_limit, upload_limit
from codes.scan_models import ScanPhoto
from codes.scan_services import register_payloads, store_bulk_images
from codes.uploads import ImageRejected
from partner_club.accounts.access import PARTICIPANTS, roles_required
from partner_club.accounts.models import Role
from partner_club.extensions import db, limiter
from partner_club.jobs.models import Job
from partner_club.jobs.services import enqueue
from partner_club.nav import NavItem
from partner_club.web import commits

bp = Blueprint("scanner", __name__, url_prefix="/scan")

# Reps photograph shelves on shop visits; owners may check a delivery.
BULK_ROLES = frozenset({Role.ADMIN, Role.REGIONAL_MANAGER, Role.REP, Role.OWNER})
MAX_BULK_FILES = 60

bp.nav = [
    NavItem("scanner.scanner", _l("Scan codes"), PARTICIPANTS, 15),
    NavItem("scanner.bulk", _l("Decode shop photos"), BULK_ROLES, 60),
]


@bp.get("/")
@roles_required(*PARTICIPANTS)
def scanner():
    return render_template("codes/scan.html", outcomes=None, problem=None)


@bp.post("/photo")
@limiter.limit(scan_rate_limit, key_func=rate_key)
@roles_required(*PARTICIPANTS)
@commits
def photo():
    """The scanner's photo form without JavaScript: register every code in the photo."""
    upload = request.files.get("image")
    if upload is None or not upload.filename:
        return render_template(
            "codes/scan.html", outcomes=None, problem=_("Choose a photo of the code first.")
        ), 400
    try:
        data = read_upload(upload, upload_limit())
        payloads = decode_image(data)
    except ImageRejected as refusal:
        return render_template("codes/scan.html", outcomes=None, problem=refusal.message), refusal.status
    if not payloads:
        return render_template("codes/scan.html", outcomes=[], problem=None)
    outcomes = register_payloads(
        db.session,
        current_user,
        payloads,
        public_url=current_app.config["PUBLIC_URL"],
        ctx=registration_context(),
        photo=data,
    )
    return render_template("codes/scan.html", outcomes=outcomes, problem=None)


@bp.errorhandler(413)
def too_large(_error):
    message = _("The photo is too large (at most %(mb)d MB).", mb=upload_limit() // (1024 * 1024))
    if request.endpoint == "scanner.bulk":
        return render_template("codes/scan_bulk.html", problem=message), 413
    return render_template("codes/scan.html", outcomes=None, problem=message), 413


@bp.route("/bulk", methods=["GET", "POST"])
@roles_required(*BULK_ROLES)
@commits
def bulk():
    """Many photos from a shop visit, decoded by a background job."""
    if request.method == "GET":
        return render_template("codes/scan_bulk.html", problem=None)
    files = [f for f in request.files.getlist("images") if f and f.filename]
    if not files:
        return render_template("codes/scan_bulk.html", problem=_("Choose one or more photos.")), 400
    if len(files) > MAX_BULK_FILES:
        return render_template(
            "codes/scan_bulk.html", problem=_("At most %(n)d photos at a time.", n=MAX_BULK_FILES)
        ), 400
    try:
        stored = [(f.filename, read_upload(f, upload_limit())) for f in files]
    except ImageRejected as refusal:
        return render_template("codes/scan_bulk.html", problem=refusal.message), refusal.status
    image_ids = store_bulk_images(db.session, current_user, stored)
    job = enqueue(
        db.session,
        scan_jobs.decode_bulk,
        title=_("Decoding %(n)d photos", n=len(image_ids)),
        created_by_id=current_user.id,
        image_ids=image_ids,
        public_url=current_app.config["PUBLIC_URL"],
    )
    return redirect(url_for("scanner.bulk_result", job_id=job.id))


@bp.get("/bulk/<int:job_id>")
@roles_required(*BULK_ROLES)
def bulk_result(job_id: int):
    job = db.session.get(Job, job_id)
    if (
        job is None
        or job.func != scan_jobs.FUNC
        or (job.created_by_id != current_user.id and current_user.role != Role.ADMIN.value)
    ):
        abort(404)
    return render_template("codes/scan_bulk_result.html", job=job, reasons=scan_jobs.reason_texts())


@bp.get("/photos/<int:photo_id>.jpg")
@roles_required(Role.ADMIN)
def review_photo(photo_id: int):
    """A photo kept for a held registration, for the reviewer (already without EXIF)."""
    kept = db.session.scalar(select(ScanPhoto).where(ScanPhoto.id == photo_id))
    if kept is None:
        abort(404)
    return current_app.response_class(
        kept.data, mimetype=kept.content_type, headers={"Cache-Control": "private, no-store"}
    )
