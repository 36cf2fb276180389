"""Outlets: loading shops from a CRM export, all rows or none."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partner_club.accounts.models import Role, User
from partner_club.audit.services import record
from partner_club.errors import Invalid
from partner_club.outlets.kinds import add_kinds, kind_key, outlet_kinds
from partner_club.outlets.models import Outlet
from partner_club.regions import geo
from partner_club.regions.models import Region
from partner_club.regions.services import fold_name, region_lookup, region_shape, territory_for
from partner_club.spreadsheets import csv_delimiter, csv_problems, decode_csv

CSV_COLUMNS = ("external_id", "name", "region", "lat", "lon", "kind", "rep_email")
REQUIRED = ("external_id", "name", "region", "lat", "lon", "rep_email")
DEFAULT_KIND = "shop"
# Bundled boundaries are simplified (a few hundred metres, and coasts cut
# short): a shop up to QUIET_BORDER_KM outside its region's drawn shape is taken
# as it is, up to BORDER_TOLERANCE_KM with a warning; farther is a mistake.
QUEUE_ABOVE = 5000  # rows: a bigger file is imported by a job with progress
PROGRESS_EVERY = 1000
Progress = Callable[[int, int], None]  # (done, total)
QUIET_BORDER_KM = 1.0
BORDER_TOLERANCE_KM = 25.0


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return _("Line %(line)d: %(message)s", line=self.line, message=self.message)


class OutletImportError(Invalid):
    """A file with bad rows: `problems` lists every one; nothing was imported."""

    code = "outlets_invalid"

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(_("%(n)d problem(s) in the file; nothing was imported.", n=len(problems)))
        self.problems = problems


@dataclass
class OutletImportResult:
    created: int = 0
    updated: int = 0
    territories_created: int = 0
    warnings: list[RowProblem] = field(default_factory=list)
    kinds_added: list[str] = field(default_factory=list)


@dataclass
class _Row:
    line: int
    external_id: str
    name: str
    region: Region
    lat: float
    lon: float
    kind: str
    rep: User


@dataclass
class _Context:
    regions: dict[str, Region]
    kinds: dict[str, dict[str, str]]
    add_kinds: bool = False
    reps: dict[str, User | None] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    new_kinds: dict[str, str] = field(default_factory=dict)  # key -> the text as written
    warnings: list[RowProblem] = field(default_factory=list)


@dataclass
class ValidatedFile:
    rows: list[_Row]
    warnings: list[RowProblem]
    new_kinds: list[str]


def read_rows(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs; the delimiter (`,` or `;`) is read off the header."""
    delimiter = csv_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader, [])]
    rows = []
    line = reader.line_num
    for values in reader:
        start, line = line + 1, reader.line_num
        if not any(v.strip() for v in values):
            continue  # blank lines, e.g. at the end of an Excel export
        padded = values + [""] * (len(header) - len(values))
        rows.append((start, {h: v.strip() for h, v in zip(header, padded, strict=False)}))
    return header, rows


def _number(raw: str) -> float | None:
    try:
        value = float(raw.replace(",", ".").replace(" ", ""))  # Excel in Russian writes 55,75
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _rep(session: Session, ctx: _Context, email: str) -> User | None:
    key = email.strip().lower()
    if key not in ctx.reps:
        ctx.reps[key] = session.scalar(select(User).where(func.lower(User.login) == key)) or session.scalar(
            select(User).where(func.lower(User.email) == key)
        )
    return ctx.reps[key]


def _outside_region(
    region: Region, lat: float, lon: float, row: dict[str, str], tolerance_km: float, locale: str
) -> tuple[str | None, str | None]:
    """(why the point is refused, what to warn about): both None when it lies inside."""
    shape = region_shape(region)
    if shape is None or geo.contains(shape, lat, lon):
        return None, None
    distance = geo.distance_to_border_km(shape, lat, lon)
    where = f"{region.iso_code} {region.name(locale)}"
    if distance <= min(QUIET_BORDER_KM, tolerance_km):
        return None, None
    if distance <= tolerance_km:
        return None, _(
            "the point %(lat)s, %(lon)s lies %(km).1f km outside %(region)s; imported, check the address.",
            lat=row["lat"],
            lon=row["lon"],
            region=where,
            km=distance,
        )
    if abs(lon) <= 90 and geo.contains(shape, lon, lat):
        return _(
            "the point %(lat)s, %(lon)s lies outside %(region)s: are lat and lon swapped?",
            lat=row["lat"],
            lon=row["lon"],
            region=where,
        ), None
    return _(
        "the point %(lat)s, %(lon)s lies outside %(region)s (%(km).1f km from its border).",
        lat=row["lat"],
        lon=row["lon"],
        region=where,
        km=distance,
    ), None


def _check_row(
    session: Session, ctx: _Context, line: int, row: dict[str, str], border_tolerance_km: float, locale: str
) -> tuple[_Row | None, list[str]]:
    problems = []
    missing = [c for c in REQUIRED if not row.get(c)]
    if missing:
        problems.append(_("missing %(columns)s.", columns=", ".join(missing)))
    external_id, name = row.get("external_id", ""), row.get("name", "")
    if len(external_id) > 64:
        problems.append(_("external_id is longer than 64 characters."))
    if len(name) > 200:
        problems.append(_("name is longer than 200 characters."))
    if external_id:
        if external_id in ctx.seen:
            problems.append(
                _(
                    "external_id %(id)s is already on line %(other)d.",
                    id=external_id,
                    other=ctx.seen[external_id],
                )
            )
        else:
            ctx.seen[external_id] = line
    region = None
    if row.get("region"):
        region = ctx.regions.get(fold_name(row["region"]))
        if region is None:
            problems.append(
                _(
                    "unknown region \"%(region)s\" (use an ISO 3166-2 code such as RU-TA, "
                    "or the region's name).",
                    region=row["region"],
                )
            )
    lat, lon = (_number(row[c]) if row.get(c) else None for c in ("lat", "lon"))
    for column, value, limit in (("lat", lat, 90), ("lon", lon, 180)):
        if row.get(column) and value is None:
            problems.append(_("%(column)s \"%(value)s\" is not a number.", column=column, value=row[column]))
        elif value is not None and abs(value) > limit:
            problems.append(
                _(
                    "%(column)s %(value)s is out of range (-%(limit)d to %(limit)d).",
                    column=column,
                    value=row[column],
                    limit=limit,
                )
            )
    if region is not None and lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180:
        outside, warning = _outside_region(region, lat, lon, row, border_tolerance_km, locale)
        if outside:
            problems.append(outside)
        if warning:
            ctx.warnings.append(RowProblem(line, warning))
    kind = kind_key(row.get("kind") or DEFAULT_KIND)
    if kind not in ctx.kinds:
        ctx.new_kinds.setdefault(kind, row.get("kind", ""))
        if not ctx.add_kinds:
            problems.append(
                _(
                    "unknown kind \"%(kind)s\" (one of: %(kinds)s); add it on the shop kinds page "
                    "or import with --add-kinds.",
                    kind=row.get("kind"),
                    kinds=", ".join(ctx.kinds),
                )
            )
    rep = None
    if row.get("rep_email"):
        rep = _rep(session, ctx, row["rep_email"])
        if rep is None:
            problems.append(_("no user with e-mail %(email)s.", email=row["rep_email"]))
        elif rep.role != Role.REP.value:
            problems.append(_("%(email)s is not a sales representative.", email=row["rep_email"]))
            rep = None
    if problems:
        return None, problems
    if region is None or lat is None or lon is None or rep is None:
        raise AssertionError("REQUIRED columns: a row without problems has its region, point and rep")
    return _Row(line, external_id, name, region, lat, lon, kind, rep), []


def validate_outlets_csv(
    session: Session,
    data: bytes | str,
    *,
    border_tolerance_km: float = BORDER_TOLERANCE_KM,
    locale: str = "ru",
    add_new_kinds: bool = False,
    progress: Progress | None = None,
) -> ValidatedFile:
    """Every row checked; OutletImportError listing each bad one by line number."""
    text = decode_csv(data)
    unreadable = csv_problems(text)
    if unreadable:
        raise OutletImportError([RowProblem(line, message) for line, message in unreadable])
    header, rows = read_rows(text)
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise OutletImportError(
            [
                RowProblem(
                    1,
                    _(
                        "the header lacks %(columns)s; expected %(expected)s.",
                        columns=", ".join(missing),
                        expected=",".join(CSV_COLUMNS),
                    ),
                )
            ]
        )
    if not rows:
        raise OutletImportError([RowProblem(1, _("the file has a header but no rows."))])
    ctx = _Context(regions=region_lookup(session), kinds=outlet_kinds(session), add_kinds=add_new_kinds)
    good: list[_Row] = []
    problems: list[RowProblem] = []
    for number, (line, row) in enumerate(rows, start=1):
        if progress and number % PROGRESS_EVERY == 0:
            progress(number, len(rows))  # checking (regions' shapes) is most of the work
        parsed, found = _check_row(session, ctx, line, row, border_tolerance_km, locale)
        problems.extend(RowProblem(line, message) for message in found)
        if parsed is not None:
            good.append(parsed)
    if problems:
        raise OutletImportError(problems)
    return ValidatedFile(good, ctx.warnings, list(ctx.new_kinds.values()))


def import_outlets(
    session: Session,
    data: bytes | str,
    *,
    actor: User | None = None,
    border_tolerance_km: float = BORDER_TOLERANCE_KM,
    locale: str = "ru",
    add_new_kinds: bool = False,
    progress: Progress | None = None,
) -> OutletImportResult:
    """Creates or updates shops by external_id from a CRM CSV; all rows or none.

    Each shop goes into its rep's territory in its region; a rep with none
    there gets one named "<rep name> — <region>".
    """
    checked = validate_outlets_csv(
        session,
        data,
        border_tolerance_km=border_tolerance_km,
        locale=locale,
        add_new_kinds=add_new_kinds,
        progress=progress,
    )
    rows = checked.rows
    result = OutletImportResult(warnings=checked.warnings)
    result.kinds_added = add_kinds(session, checked.new_kinds, actor=actor) if checked.new_kinds else []
    ids = [r.external_id for r in rows]
    existing: dict[str | None, Outlet] = {}
    for start in range(0, len(ids), 5000):  # stay under the databases' bound-parameter limits
        existing.update(
            (o.external_id, o)
            for o in session.scalars(select(Outlet).where(Outlet.external_id.in_(ids[start : start + 5000])))
        )
    territories: dict[tuple[int, int], Any] = {}
    # No progress while writing: on SQLite the progress row could not be written beside this
    # transaction's lock; the caller reports the end.
    for row in rows:
        key = (row.rep.id, row.region.id)
        if key not in territories:
            territory, created = territory_for(session, row.rep, row.region, locale=locale)
            territories[key] = territory
            result.territories_created += created
        values = dict(
            name=row.name,
            region_id=row.region.id,
            territory_id=territories[key].id,
            lat=row.lat,
            lon=row.lon,
            kind=row.kind,
        )
        outlet = existing.get(row.external_id)
        if outlet is None:
            session.add(Outlet(external_id=row.external_id, **values))
            result.created += 1
        else:
            for name, value in values.items():
                setattr(outlet, name, value)
            result.updated += 1
    session.flush()
    record(
        session,
        actor,
        "outlets.import",
        None,
        created=result.created,
        updated=result.updated,
        territories_created=result.territories_created,
    )
    return result
