"""Regions: importing their shapes, finding them by code, name or a point on the map."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from partner_club.accounts.models import User
from partner_club.errors import Invalid
from partner_club.regions import geo
from partner_club.regions.models import Region, Territory

BUNDLED_REGIONS = Path(__file__).parent / "data" / "regions.geojson"
ISO_CODE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


class RegionImportError(Invalid):
    """A GeoJSON file with bad features: `problems` lists each one; nothing was imported."""

    code = "regions_invalid"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(_("The regions file has %(n)d problem(s); nothing was imported.", n=len(problems)))
        self.problems = problems


@dataclass
class RegionImportResult:
    created: int = 0
    updated: int = 0
    codes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PropertyNames:
    """Which feature properties hold the code and the names (other GeoJSON files differ)."""

    code: str = "iso_3166_2"
    name_en: str = "name_en"
    name_ru: str = "name_ru"


def read_feature_collection(text: str | bytes) -> dict[str, Any]:
    """The parsed FeatureCollection, or Invalid saying why the file is not one."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    try:
        data = json.loads(text)
    except ValueError as error:
        raise Invalid(
            _("The file is not valid JSON: %(error)s", error=str(error)), code="regions_not_json"
        ) from None
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        raise Invalid(_("The file is not a GeoJSON FeatureCollection."), code="regions_not_collection")
    return data


def _text(properties: dict[str, Any], name: str) -> str:
    value = properties.get(name)
    return str(value).strip() if value is not None else ""


def _parse_feature(
    index: int, feature: Any, names: PropertyNames, seen: dict[str, int]
) -> tuple[dict[str, Any] | None, list[str]]:
    """The region's values from one feature, or the problems found in it."""
    where = _("Feature %(index)d", index=index)
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return None, [f"{where}: " + _("not a GeoJSON Feature.")]
    properties = feature.get("properties") or {}
    problems = []
    code = _text(properties, names.code).upper()
    if not code:
        problems.append(f"{where}: " + _("no ISO 3166-2 code in property \"%(name)s\".", name=names.code))
    elif not ISO_CODE.match(code):
        problems.append(f"{where}: " + _("\"%(code)s\" is not an ISO 3166-2 code such as RU-TA.", code=code))
    elif code in seen:
        problems.append(
            f"{where}: " + _("code %(code)s already used by feature %(other)d.", code=code, other=seen[code])
        )
    else:
        seen[code] = index
    name_en = _text(properties, names.name_en)
    if not name_en:
        problems.append(f"{where}: " + _("no name in property \"%(name)s\".", name=names.name_en))
    try:
        shape = geo.parse_shape(feature.get("geometry"))
    except geo.GeometryError as error:
        problems.append(f"{where}: " + _("bad geometry: %(error)s", error=str(error)))
        return None, problems
    if problems:
        return None, problems
    return {
        "iso_code": code,
        "country": code[:2],
        "name_en": name_en[:200],
        # A file without Russian names still imports; the English name stands in.
        "name_ru": (_text(properties, names.name_ru) or name_en)[:200],
        "geometry": json.dumps(feature["geometry"], separators=(",", ":")),
        "bbox": geo.bbox_text(shape),
    }, []


def import_regions(
    session: Session, collection: dict[str, Any], *, names: PropertyNames = PropertyNames()
) -> RegionImportResult:
    """Upserts one region per feature, matched by ISO code; all or nothing."""
    values: list[dict[str, Any]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, feature in enumerate(collection.get("features") or []):
        parsed, found = _parse_feature(index, feature, names, seen)
        problems.extend(found)
        if parsed is not None:
            values.append(parsed)
    if not values and not problems:
        problems.append(_("The file has no features."))
    if problems:
        raise RegionImportError(problems)
    existing = {
        r.iso_code: r
        for r in session.scalars(select(Region).where(Region.iso_code.in_([v["iso_code"] for v in values])))
    }
    result = RegionImportResult()
    for value in values:
        region = existing.get(value["iso_code"])
        if region is None:
            session.add(Region(**value))
            result.created += 1
        else:
            for key, item in value.items():
                setattr(region, key, item)
            result.updated += 1
        result.codes.append(value["iso_code"])
    session.flush()
    return result


def import_bundled_regions(session: Session) -> RegionImportResult:
    """The regions of Russia, Kazakhstan and Ukraine shipped with the club."""
    return import_regions(session, read_feature_collection(BUNDLED_REGIONS.read_bytes()))


def fold_name(text: str) -> str:
    """A name made comparable: case, ё and runs of spaces do not matter."""
    return " ".join(text.replace("ё", "е").replace("Ё", "Е").split()).casefold()


def region_lookup(session: Session) -> dict[str, Region]:
    """Every region under its ISO code and its English and Russian names (case-folded)."""
    table: dict[str, Region] = {}
    for region in session.scalars(select(Region).order_by(Region.iso_code)):
        for key in (region.name_en, region.name_ru, region.iso_code):
            table[fold_name(key)] = region  # the code wins over a clashing name
    return table


def find_region(session: Session, text: str) -> Region | None:
    """A region by ISO code (RU-TA) or by its English or Russian name."""
    return region_lookup(session).get(fold_name(text or ""))


def region_shape(region: Region) -> geo.Shape | None:
    return geo.shape_of(region.geometry) if region.geometry else None


def region_at(session: Session, lat: float, lon: float, *, within_km: float = 0.0) -> Region | None:
    """The region containing the point (or, with within_km, the nearest one that close).

    Bounding boxes are read first, so only the few regions around the point
    have their shapes loaded.
    """
    margin_lat = within_km / geo.KM_PER_DEGREE_LAT
    margin_lon = within_km / (geo.KM_PER_DEGREE_LON_AT_EQUATOR * max(0.01, math.cos(math.radians(lat))))
    candidates = []
    for region_id, bbox in session.execute(select(Region.id, Region.bbox).order_by(Region.iso_code)):
        try:
            min_lon, min_lat, max_lon, max_lat = (float(v) for v in (bbox or "").split(","))
        except ValueError:
            candidates.append(region_id)  # no usable box: look at the shape itself
            continue
        if (
            min_lat - margin_lat <= lat <= max_lat + margin_lat
            and min_lon - margin_lon <= lon <= max_lon + margin_lon
        ):
            candidates.append(region_id)
    if not candidates:
        return None
    regions = session.scalars(
        select(Region)
        .options(undefer(Region.geometry))
        .where(Region.id.in_(candidates))
        .order_by(Region.iso_code)
    )
    shapes = [(r, s) for r in regions if (s := region_shape(r)) is not None]
    return geo.nearest(shapes, lat, lon, within_km=within_km)


def territory_for(
    session: Session, rep: User, region: Region, *, locale: str = "ru"
) -> tuple[Territory, bool]:
    """The rep's territory in the region, created as "<rep name> — <region>" when missing.

    Returns (territory, created).
    """
    territory = session.scalar(
        select(Territory)
        .where(Territory.rep_id == rep.id, Territory.region_id == region.id)
        .order_by(Territory.id)
    )
    if territory is not None:
        return territory, False
    base = f"{rep.display_name} — {region.name(locale)}"[:190]
    taken = set(session.scalars(select(Territory.name).where(Territory.region_id == region.id)))
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base} ({n})"
    territory = Territory(region_id=region.id, name=name, rep_id=rep.id)
    session.add(territory)
    session.flush()
    return territory, True
