"""Translations: one Russian catalog per package, English in the source.

`flask --app partner_club i18n update` extracts every marked string of a
package (its Python and its templates) and merges it into that package's
`translations/ru/LC_MESSAGES/messages.po`; `compile` writes the .mo files
Flask-Babel reads (Flask-Babel merges the catalogs of every package);
`check` lists what still lacks a Russian text. Keeping a catalog per
package lets the packages change side by side without editing one file.
"""

from __future__ import annotations

from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from flask.cli import AppGroup

from partner_club.config import PACKAGE_DIR, PACKAGES, ROOT

DOMAIN_PACKAGES = ("codes", "fraud", "catalog", "reports")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "lazy_ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
}
METHODS = [
    ("**.py", "python"),
    ("**.html", "jinja2.ext:babel_extract"),
    ("**.txt", "jinja2.ext:babel_extract"),  # the plain-text parts of e-mails
]
OPTIONS = {"**.html": {"extensions": "jinja2.ext.do,jinja2.ext.loopcontrols"}}
TEMPLATES = PACKAGE_DIR / "templates"


def _walk_into(directory: str) -> bool:
    """Babel's default (no dot or underscore folders), and not into the core's templates
    (each template folder belongs to its package) or its migrations (no texts there)."""
    path = Path(directory)
    return not path.name.startswith((".", "_")) and path not in (TEMPLATES, PACKAGE_DIR / "migrations")


def source_dirs(package: str) -> list[Path]:
    """The package's code and the template folders it owns."""
    if package in DOMAIN_PACKAGES:
        return [ROOT / package, TEMPLATES / package]
    owned = [p for p in TEMPLATES.iterdir() if p.is_dir() and p.name not in DOMAIN_PACKAGES]
    return [ROOT / package, *owned, *list(TEMPLATES.glob("*.html"))]


def po_path(package: str) -> Path:
    return ROOT / package / "translations" / "ru" / "LC_MESSAGES" / "messages.po"


def extract(package: str) -> Catalog:
    template = Catalog(project="partner-club", charset="utf-8")
    for source in source_dirs(package):
        if source.is_file():
            found = extract_from_dir(
                str(source.parent),
                METHODS,
                OPTIONS,
                KEYWORDS,
                strip_comment_tags=True,
                directory_filter=_walk_into,
            )
            found = (m for m in found if m[0] == source.name)
        elif source.is_dir():
            found = extract_from_dir(
                str(source), METHODS, OPTIONS, KEYWORDS, strip_comment_tags=True, directory_filter=_walk_into
            )
        else:
            continue
        for filename, lineno, message, comments, context in found:
            where = str((source if source.is_dir() else source.parent) / filename)
            template.add(
                message,
                None,
                [(str(Path(where).relative_to(ROOT)), lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def read_catalog(package: str) -> Catalog:
    path = po_path(package)
    if not path.exists():
        return Catalog(locale="ru", project="partner-club")
    with path.open("rb") as handle:
        return read_po(handle, locale="ru")


def update(package: str) -> Catalog:
    catalog = read_catalog(package)
    catalog.update(extract(package), no_fuzzy_matching=True)
    path = po_path(package)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, ignore_obsolete=True, width=100)
    return catalog


def compile_catalog(package: str) -> None:
    path = po_path(package)
    if path.exists():
        with path.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, read_catalog(package))


def untranslated(package: str) -> list[str]:
    """Every extracted message of `package` that has no Russian text."""
    catalog = read_catalog(package)
    missing = []
    for message in extract(package):
        if not message.id:
            continue
        known = catalog.get(message.id, message.context)
        strings = known.string if known is not None else None
        if isinstance(strings, (list, tuple)):
            strings = strings[0] if all(strings) else ""
        if not strings or (known is not None and known.fuzzy):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


i18n = AppGroup("i18n", help="Russian translations of every package.")


@i18n.command("update")
def update_command() -> None:
    """Extract marked strings and merge them into each package's catalog."""
    for package in PACKAGES:
        update(package)
        click.echo(f"{package}: {len(untranslated(package))} without Russian")


@i18n.command("compile")
def compile_command() -> None:
    """Write the .mo files."""
    for package in PACKAGES:
        compile_catalog(package)


@i18n.command("check")
def check_command() -> None:
    """Fail if any message lacks a Russian text."""
    missing = {p: untranslated(p) for p in PACKAGES}
    for package, ids in missing.items():
        for msgid in ids:
            click.echo(f"{package}: {msgid}")
    if any(missing.values()):
        raise click.ClickException("Some texts have no Russian translation.")
