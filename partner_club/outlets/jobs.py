"""The outlet import as a job: big CRM files with progress a person can watch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask_babel import force_locale

from partner_club.errors import DomainError
from partner_club.extensions import db
from partner_club.jobs.services import JobContext
from partner_club.outlets.services import import_outlets


def import_outlets_job(
    ctx: JobContext, path: str, border_tolerance_km: float, add_new_kinds: bool, locale: str
) -> dict[str, Any]:
    """All rows or none, as the command does; a refused file's problems are the job's result."""
    file = Path(path)
    with force_locale(locale):
        try:
            result = import_outlets(
                db.session,
                file.read_bytes(),
                border_tolerance_km=border_tolerance_km,
                locale=locale,
                add_new_kinds=add_new_kinds,
                progress=lambda done, total: ctx.progress(done, total),
            )
        except DomainError as error:  # OutletImportError lists every bad row
            db.session.rollback()
            problems = [str(p) for p in getattr(error, "problems", [])]
            return {"imported": False, "message": error.message, "problems": problems}
        finally:
            file.unlink(missing_ok=True)
        db.session.commit()
        done = result.created + result.updated
        ctx.progress(done, done)
        return {
            "imported": True,
            "created": result.created,
            "updated": result.updated,
            "territories_created": result.territories_created,
            "warnings": [str(w) for w in result.warnings],
            "kinds_added": result.kinds_added,
        }
