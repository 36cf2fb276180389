"""Bulk photo decoding: a rep's photos from a shop visit, read in the background.

The job gets the ids of the stored pictures, decodes them one by one with
progress, tells for every club code whether it is registered yet, and
deletes the pictures with the result: the result keeps only codes, not photos.

A retry (the worker died, rq tried again) reads every picture again, so the
result is whole; pictures whose job failed for good are removed by the next
bulk job after a day (`ORPHANS_AFTER`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from codes.normalize import CodeRejected
from codes.scan import decode_image
from codes.scan_models import BulkScanImage
from codes.scan_services import classify
from codes.services import find_code
from codes.uploads import ImageRejected
from partner_club.database import utcnow
from partner_club.extensions import db
from partner_club.jobs.models import Job, JobStatus
from partner_club.jobs.services import JobContext, func_path


def decode_bulk(ctx: JobContext, *, image_ids: list[int], public_url: str | None = None) -> dict[str, Any]:
    # The club's address as the uploading site saw it; a worker may run elsewhere.
    public_url = public_url or current_app.config["PUBLIC_URL"]
    total = len(image_ids)
    ctx.progress(0, total)
    images: list[dict[str, Any]] = []
    for done, image_id in enumerate(image_ids, start=1):
        row = db.session.get(BulkScanImage, image_id)
        if row is None:
            continue
        entry: dict[str, Any] = {"file": row.file_name, "codes": [], "error": None}
        try:
            payloads = decode_image(row.data)
        except ImageRejected as refusal:
            entry["error"] = refusal.code
            payloads = []
        for outcome in classify(payloads, public_url):
            entry["codes"].append(
                {
                    "payload": outcome.payload,
                    "code": outcome.code,
                    "state": _state_of(outcome.code) if outcome.code else outcome.reason,
                }
            )
        images.append(entry)
        db.session.expunge(row)  # its bytes leave memory with it
        ctx.progress(done, total, entry["file"])
    # Deleted in the transaction that stores the result (the job runner commits both).
    db.session.execute(delete(BulkScanImage).where(BulkScanImage.id.in_(image_ids)))
    drop_orphaned_uploads(db.session, utcnow() - ORPHANS_AFTER)
    club = [c for image in images for c in image["codes"] if c["code"]]
    return {
        "images": images,
        "club_codes": len(club),
        "unregistered": sum(1 for c in club if c["state"] == "not_registered"),
        "unreadable": sum(1 for image in images if not image["codes"]),
    }


FUNC = func_path(decode_bulk)
ORPHANS_AFTER = timedelta(days=1)


def drop_orphaned_uploads(session: Session, before: datetime) -> int:
    """Pictures older than `before` whose job is over or unknown: by then the sweep has run or
    failed every job, so nobody will read them."""
    over = select(Job.id).where(Job.status.in_((JobStatus.FINISHED.value, JobStatus.FAILED.value)))
    return session.execute(
        delete(BulkScanImage).where(
            BulkScanImage.created_at < before,
            BulkScanImage.job_id.is_(None) | BulkScanImage.job_id.in_(over),
        )
    ).rowcount


def _state_of(code: str) -> str:
    """registered / not_registered, or the reason the code is not valid."""
    try:
        found = find_code(db.session, code)
    except CodeRejected as refusal:
        return refusal.code
    return "registered" if found.earlier_id is not None else "not_registered"


def reason_texts() -> dict[str, Any]:
    """What the result page says for each state and refusal."""
    return {
        "registered": _l("registered"),
        "not_registered": _l("not registered yet"),
        "not_a_club_link": _l("not a Partner Club code"),
        "other_host": _l("a link to another site"),
        "unknown_batch": _l("not a Partner Club code"),
        "serial_out_of_range": _l("not a Partner Club code"),
        "batch_not_active": _l("goods not shipped yet"),
        "batch_voided": _l("withdrawn code"),
        "bad_check_symbol": _l("damaged code"),
        "empty_file": _l("empty file"),
        "file_too_large": _l("file too large"),
        "too_many_pixels": _l("picture too large"),
        "not_an_image": _l("not a photo"),
        "damaged_image": _l("damaged file"),
        "truncated_image": _l("incomplete file"),
    }
