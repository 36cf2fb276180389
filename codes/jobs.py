"""Background jobs of the codes package (thin wrappers over services)."""

from __future__ import annotations

import glob
import os
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete

from codes import issuing, services
from codes.models import Batch, RegistrationRequest
from codes.scheme import write_csv
from partner_club.database import utcnow
from partner_club.extensions import db
from partner_club.jobs.services import JobContext


def generate_print_file(ctx: JobContext, batch_id: int) -> dict[str, Any]:
    """Writes a batch's CSV print file (serial,code,display,url) with progress."""
    batch = db.session.get(Batch, batch_id)
    path = issuing.print_file_path(current_app.instance_path, batch)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # Written under a name of this attempt's own and renamed when whole: a killed attempt
    # leaves only its own partial file, which the next attempt removes.
    partial = f"{path}.{ctx.job_id}.part"
    for stale in glob.glob(glob.escape(path) + ".*.part"):
        os.remove(stale)
    ctx.progress(0, batch.count, "")
    step = max(1, batch.count // 100)
    last = [0]

    def report(done: int) -> None:
        if done - last[0] >= step or done == batch.count:
            last[0] = done
            ctx.progress(done, batch.count, "")

    try:
        with open(partial, "wb", buffering=1 << 22) as out:
            write_csv(
                out,
                services.current_scheme(),
                batch.key_version,
                batch.number,
                1,
                batch.count,
                services.code_url(""),
                progress=report,
            )
    except BaseException:
        os.remove(partial)
        raise
    os.replace(partial, path)  # the file appears whole or not at all
    return {"batch": batch.number, "count": batch.count, "file": os.path.basename(path)}


REQUESTS_KEPT = timedelta(days=30)  # well past the 7 days a queued code may wait on a phone


def prune_registration_requests(ctx: JobContext) -> dict[str, Any]:
    """Forgets the first answers to client ids older than a month: a phone's outbox has long
    sent or dropped them (a code scanned over seven days ago is refused anyway)."""
    table = RegistrationRequest.__table__
    result = db.session.execute(delete(table).where(table.c.created_at < utcnow() - REQUESTS_KEPT))
    return {"forgotten": result.rowcount}
