"""`flask outlets import FILE.csv`: shops from a CRM export."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import get_locale
from flask_babel import gettext as _

from partner_club.errors import DomainError
from partner_club.extensions import db
from partner_club.jobs.follow import follow_job
from partner_club.jobs.models import JobStatus
from partner_club.jobs.services import enqueue
from partner_club.outlets.jobs import import_outlets_job
from partner_club.outlets.services import BORDER_TOLERANCE_KM, QUEUE_ABOVE, OutletImportError, import_outlets

outlets = AppGroup("outlets", help="Outlets (shops).")


@outlets.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--border-tolerance-km",
    type=float,
    default=BORDER_TOLERANCE_KM,
    show_default=True,
    help="Accept, with a warning, a point this close outside its region's (simplified) border.",
)
@click.option(
    "--add-kinds", is_flag=True, help="Add the kinds of shop the file names that are not on the list yet."
)
@click.option(
    "--queue/--no-queue",
    "queued",
    default=None,
    help=f"Run as a background job with progress (default: above {QUEUE_ABOVE} lines).",
)
def import_command(file: Path, border_tolerance_km: float, add_kinds: bool, queued: bool | None) -> None:
    """Create or update shops from a CSV: external_id,name,region,lat,lon,kind,rep_email.

    UTF-8 (with or without BOM), `,` or `;` separated. Every bad row is
    reported by line number and then nothing is imported.
    """
    locale = str(get_locale() or "ru")
    if queued is None:
        with file.open("rb") as handle:
            queued = sum(1 for _line in handle) > QUEUE_ABOVE
    if queued:
        _import_as_job(file, border_tolerance_km, add_kinds, locale)
        return
    try:
        result = import_outlets(
            db.session,
            file.read_bytes(),
            border_tolerance_km=border_tolerance_km,
            locale=locale,
            add_new_kinds=add_kinds,
        )
    except OutletImportError as error:
        db.session.rollback()
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(error.message) from None
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    for warning in result.warnings:
        click.echo(_("Warning: %(problem)s", problem=str(warning)), err=True)
    if result.kinds_added:
        click.echo(_("New kinds of shop: %(kinds)s.", kinds=", ".join(result.kinds_added)))
    click.echo(
        _(
            "%(file)s: %(created)d created, %(updated)d updated, %(territories)d new territories.",
            file=file.name,
            created=result.created,
            updated=result.updated,
            territories=result.territories_created,
        )
    )


def _import_as_job(file: Path, border_tolerance_km: float, add_kinds: bool, locale: str) -> None:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / f"outlets-{uuid.uuid4().hex}.csv"
    shutil.copyfile(file, copy)  # the job reads its own copy, wherever the worker runs
    job = enqueue(
        db.session,
        import_outlets_job,
        title=f"Outlets import: {file.name}",
        path=str(copy),
        border_tolerance_km=border_tolerance_km,
        add_new_kinds=add_kinds,
        locale=locale,
    )
    db.session.commit()
    row = follow_job(job.id, lambda text: click.echo(text, err=True))
    if row is None:
        return
    result = row.result or {}
    if row.status != JobStatus.FINISHED.value or not result.get("imported"):
        for problem in result.get("problems", []):
            click.echo(problem, err=True)
        raise click.ClickException(result.get("message") or row.error or "the import failed")
    for warning in result["warnings"]:
        click.echo(_("Warning: %(problem)s", problem=warning), err=True)
    click.echo(
        _(
            "%(file)s: %(created)d created, %(updated)d updated, %(territories)d new territories.",
            file=file.name,
            created=result["created"],
            updated=result["updated"],
            territories=result["territories_created"],
        )
    )
