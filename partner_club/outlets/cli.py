"""`flask outlets import FILE.csv`: shops from a CRM export."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import get_locale
from flask_babel import gettext as _

from partner_club.errors import DomainError
from partner_club.extensions import db
from partner_club.outlets.services import BORDER_TOLERANCE_KM, OutletImportError, import_outlets

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
def import_command(file: Path, border_tolerance_km: float, add_kinds: bool) -> None:
    """Create or update shops from a CSV: external_id,name,region,lat,lon,kind,rep_email.

    UTF-8 (with or without BOM), `,` or `;` separated. Every bad row is
    reported by line number and then nothing is imported.
    """
    try:
        result = import_outlets(
            db.session,
            file.read_bytes(),
            border_tolerance_km=border_tolerance_km,
            locale=str(get_locale() or "ru"),
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
