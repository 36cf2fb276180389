"""`flask regions import [FILE]`: load region boundaries from GeoJSON."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from partner_club.errors import DomainError
from partner_club.extensions import db
from partner_club.regions.services import (
    BUNDLED_REGIONS,
    PropertyNames,
    RegionImportError,
    import_regions,
    read_feature_collection,
)

regions = AppGroup("regions", help="Regions and their shapes.")


@regions.command("import")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--code-property",
    default="iso_3166_2",
    show_default=True,
    help="Feature property holding the ISO 3166-2 code.",
)
@click.option(
    "--name-en-property",
    default="name_en",
    show_default=True,
    help="Feature property holding the English name.",
)
@click.option(
    "--name-ru-property",
    default="name_ru",
    show_default=True,
    help="Feature property holding the Russian name (the English one stands in when absent).",
)
def import_command(
    file: Path | None, code_property: str, name_en_property: str, name_ru_property: str
) -> None:
    """Create or update regions from a GeoJSON FeatureCollection, one feature per region.

    Without FILE, loads the bundled boundaries of Russia, Kazakhstan and Ukraine.
    Regions are matched by ISO code; a file with any bad feature imports nothing.
    """
    path = file or BUNDLED_REGIONS
    names = PropertyNames(code=code_property, name_en=name_en_property, name_ru=name_ru_property)
    try:
        result = import_regions(db.session, read_feature_collection(path.read_bytes()), names=names)
    except RegionImportError as error:
        db.session.rollback()
        for problem in error.problems:
            click.echo(problem, err=True)
        raise click.ClickException(error.message) from None
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(
        _(
            "%(file)s: %(created)d created, %(updated)d updated.",
            file=path.name,
            created=result.created,
            updated=result.updated,
        )
    )
