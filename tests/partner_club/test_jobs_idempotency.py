"""Jobs run again without doubling anything: print files and bulk photo uploads."""

from __future__ import annotations

import glob
import os
from datetime import timedelta

from codes import issuing
from codes.jobs import generate_print_file
from codes.scan_jobs import drop_orphaned_uploads
from codes.scan_models import BulkScanImage
from partner_club.accounts.models import Role
from partner_club.database import utcnow
from partner_club.jobs.services import enqueue
from tests.codes.helpers import batch


def test_a_print_file_run_twice_is_whole_once_and_a_killed_attempts_part_is_removed(app, db, work_jobs):
    issued = batch(db.session, count=40)
    db.session.commit()
    path = issuing.print_file_path(app.instance_path, issued)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(f"{path}.99.part", "w") as half:  # what a worker killed mid-file leaves behind
        half.write("serial,code\n1,")
    for _ in range(2):
        enqueue(db.session, generate_print_file, batch_id=issued.id)
        db.session.commit()
        work_jobs()
    with open(path) as whole:
        lines = whole.read().splitlines()
    assert len(lines) == 41 and len(set(lines)) == 41
    assert glob.glob(glob.escape(path) + ".*.part") == []


def test_orphaned_bulk_uploads_are_dropped_after_a_day(db, make):
    seller = make.user(Role.SELLER)
    old = BulkScanImage(uploaded_by_id=seller.id, data=b"x", created_at=utcnow() - timedelta(days=2))
    fresh = BulkScanImage(uploaded_by_id=seller.id, data=b"y")
    db.session.add_all([old, fresh])
    db.session.flush()
    assert drop_orphaned_uploads(db.session, utcnow() - timedelta(days=1)) == 1
    assert db.session.get(BulkScanImage, fresh.id) is not None
