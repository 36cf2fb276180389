"""The KPI map: data for the page's map module, shapes per zoom level, Pillow pictures for e-mails.

The page carries only what changes with the period (each region's status,
card and link); the shapes come from `/reports/map/shapes/<level>.json`,
simplified for the zoom and cacheable, so a phone on a slow link fetches
tens of kilobytes, not the megabyte of full shapes. Leaflet and the map
module come from the app's own static folder; with no tile server
(`MAP_TILE_URL`) the module draws a light base layer of the bundled shapes
and main cities, so the map works on an intranet and in tests without internet.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partner_club.errors import NotFound
from partner_club.regions.models import Region
from partner_club.regions.shapes import LEVEL_FOR_ZOOM, ZOOM_TOLERANCES, simplified
from reports.kpi import GREY, METRICS, STATUS_COLOURS, STATUS_LABELS
from reports.services import Report, Row

LEAFLET_JS = "vendor/leaflet-1.9.4/leaflet.js"
LEAFLET_CSS = "vendor/leaflet-1.9.4/leaflet.css"
CARD_METRICS = ("packages", "volume_m3", "points", "active_share")
_GEOMETRY_CACHE: dict[tuple[int, int], Any] = {}
PACKAGE_ROOT = Path(__file__).resolve().parent.parent / "partner_club"
CITIES_PATH = PACKAGE_ROOT / "regions" / "data" / "cities.json"
# Pillow's built-in font has no Cyrillic; DejaVu Sans is vendored for the pictures.
FONT_PATH = PACKAGE_ROOT / "static" / "vendor" / "dejavu-fonts-2.37.3" / "DejaVuSans.ttf"


def geometry_of(row_id: int, geometry: str | None) -> Any:
    """The parsed GeoJSON of a region, parsed once per process and shape."""
    if not geometry:
        return None
    key = (row_id, hash(geometry))
    if key not in _GEOMETRY_CACHE:
        if len(_GEOMETRY_CACHE) > 2000:
            _GEOMETRY_CACHE.clear()
        try:
            _GEOMETRY_CACHE[key] = json.loads(geometry)
        except ValueError:
            _GEOMETRY_CACHE[key] = None
    return _GEOMETRY_CACHE[key]


def _coordinates(geometry: Any) -> Iterable[tuple[float, float]]:
    """Every (lon, lat) of a Polygon or MultiPolygon."""
    if not geometry:
        return
    rings = geometry["coordinates"]
    polygons = [rings] if geometry.get("type") == "Polygon" else rings
    for polygon in polygons:
        for ring in polygon:
            for lon, lat, *_rest in ring:
                yield lon, lat


def bounds_of(points: Iterable[tuple[float, float]]) -> list[list[float]] | None:
    """[[south, west], [north, east]] of (lon, lat) points."""
    lons, lats = [], []
    for lon, lat in points:
        lons.append(lon)
        lats.append(lat)
    if not lons:
        return None
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def card_html(row: Row, labels: dict[str, str]) -> str:
    """The hover card of a region, territory or shop: its figures and targets."""
    lines = [
        f"<strong>{escape(row.name)}</strong>",
        f"<span class='kpi-status kpi-{row.status}'>{escape(labels.get(row.status) or STATUS_LABELS[row.status])}</span>",
    ]
    targets = {c.metric.key: c for c in row.checks}
    for key in CARD_METRICS:
        metric = METRICS[key]
        value = metric.value(row.figures)
        text = metric.format(value) if value is not None else labels.get("no_data", "")
        if key in targets:
            text += f" / {metric.format(targets[key].target)}"
        lines.append(f"{escape(labels.get(key) or metric.label)}: {escape(text)}")
    if row.kind != "outlet":
        lines.append(f"{escape(labels['shops'])}: {row.figures.active_shops} / {row.figures.shops}")
    return "<br>".join(lines)


def hull(points: list[tuple[float, float]], pad: float = 0.04) -> list[list[float]]:
    """A padded convex hull of (lat, lon) points as a GeoJSON ring of [lon, lat].

    Territories have no drawn borders: the hull of their shops is the shape
    shown, widened a little so a territory of one shop is still clickable.
    """
    unique = sorted({(lon, lat) for lat, lon in points})
    if len(unique) < 3:
        lon0 = min(p[0] for p in unique) - pad
        lon1 = max(p[0] for p in unique) + pad
        lat0 = min(p[1] for p in unique) - pad
        lat1 = max(p[1] for p in unique) + pad
        return [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    for p in unique:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list = []
    for p in reversed(unique):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    ring = lower[:-1] + upper[:-1]
    cx = sum(p[0] for p in ring) / len(ring)
    cy = sum(p[1] for p in ring) / len(ring)
    padded = []
    for x, y in ring:
        dx, dy = x - cx, y - cy
        length = math.hypot(dx, dy) or 1.0
        padded.append([x + pad * dx / length, y + pad * dy / length])
    return [*padded, padded[0]]


def _feature(geometry: Any, row: Row, url: str | None, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "colour": STATUS_COLOURS[row.status],
            "url": url,
            "card": card_html(row, labels),
            "name": row.name,
        },
    }


def bbox_of(row: Row) -> list[list[float]]:
    """Corners from the stored "min_lon,min_lat,max_lon,max_lat", else from the shape.

    A shape across the antimeridian (Chukotka) has a box around the whole
    world; its eastern-hemisphere part alone is what the view should fit.
    """
    if row.bbox:
        try:
            west, south, east, north = (float(v) for v in row.bbox.split(","))
            if east - west <= 180:
                return [[south, west], [north, east]]
        except ValueError:
            pass
    points = list(_coordinates(geometry_of(row.id, row.geometry)))
    if points and max(p[0] for p in points) - min(p[0] for p in points) > 180:
        points = [p for p in points if p[0] >= 0]
    return bounds_of(points) or []


def _fit(corners: list[list[float]]) -> list[list[float]] | None:
    if not corners:
        return None
    return [
        [min(c[0] for c in corners), min(c[1] for c in corners)],
        [max(c[0] for c in corners), max(c[1] for c in corners)],
    ]


def in_programme(row: Row) -> bool:
    """A region the programme works in: it has shops or a target."""
    return bool(row.figures.shops or row.checks)


def cities(locale: str) -> list[dict[str, Any]]:
    """The main cities of the light base map, named in the reader's language."""
    key = "ru" if locale.startswith("ru") else "en"
    return [
        {"name": c[key], "lat": c["lat"], "lon": c["lon"], "rank": c["rank"]}
        for c in json.loads(CITIES_PATH.read_text(encoding="utf-8"))
    ]


def country_page(
    report: Report,
    *,
    url_for_region: Callable[[Row], str],
    labels: dict[str, str],
    shapes_url: str,
    region_shapes_url: str,
    tile_url: str | None,
    locale: str,
) -> dict[str, Any]:
    """What the map module needs beside the shapes: each region's colour, card and page.

    The shapes themselves are not in the page: the module fetches them per
    zoom level from `shapes_url` (see `shape_file`), cacheable across pages.
    """
    listed = [row for row in report.rows if in_programme(row)]
    # Only a colour and a link per region: the card a region shows on the map
    # is read from its row of the table below it, which the page has anyway.
    regions = {
        row.code: {"colour": STATUS_COLOURS[row.status], "url": url_for_region(row), "name": row.name}
        for row in report.rows
    }
    for row in listed:
        regions[row.code]["row"] = row.id
    corners = [c for row in (listed or report.rows) for c in bbox_of(row)]
    return {
        "level": "country",
        "regions": regions,
        "bounds": _fit(corners),
        "shapes": shapes_url,
        "region_shapes": region_shapes_url,
        "collections": COLLECTION_LEVELS,
        "zooms": [list(pair) for pair in LEVEL_FOR_ZOOM],
        "tiles": tile_url,
        "cities": [] if tile_url else cities(locale),
    }


def region_page(
    report: Report,
    *,
    url_for_territory: Callable[[Row], str],
    url_for_outlet: Callable[[Row], str],
    labels: dict[str, str],
    shapes_url: str,
    tile_url: str | None,
    locale: str,
) -> dict[str, Any]:
    """A region's outline, its territories (hulls of their shops) and its shops, inline: one region is small."""
    corners: list[list[float]] = []
    outline = None
    shape = geometry_of(report.total.id, report.total.geometry)
    if shape:
        outline = _feature(simplified(shape, ZOOM_TOLERANCES[-1]), report.total, None, labels)
        corners.extend(bbox_of(report.total))
    territories = [
        _feature({"type": "Polygon", "coordinates": [hull(row.points)]}, row, url_for_territory(row), labels)
        for row in report.rows
        if row.points
    ]
    located = [row for row in report.outlets if row.lat is not None and row.lon is not None]
    shops = [
        _feature({"type": "Point", "coordinates": [row.lon, row.lat]}, row, url_for_outlet(row), labels)
        for row in located
    ]
    corners.extend(bounds_of((row.lon, row.lat) for row in located) or [])
    return {
        "level": "region",
        "shapes": shapes_url,
        "outline": outline,
        "territories": territories,
        "shops": shops,
        "bounds": _fit(corners),
        "tiles": tile_url,
        "cities": [] if tile_url else cities(locale),
    }


def page_json(data: dict[str, Any]) -> Markup:
    """The map's data for a <script type="application/json"> block, in UTF-8 as it is.

    Inside such a block only "</" (a closing tag) and "<!--" can end or
    confuse it, so only those are escaped; Flask's `tojson` escapes every
    "<" and writes every Cyrillic letter as six bytes, doubling a Russian page.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("</", "<\\/").replace("<!--", "<\\u0021--")
    return Markup(text)  # noqa: S704 - JSON that cannot close or comment out its script block


# --- the shapes, per level of detail -------------------------------------------


@dataclass
class ShapeFile:
    """One level's shapes of every region as GeoJSON, plain and gzipped, with its ETag."""

    body: bytes
    gzipped: bytes
    etag: str


# Levels 0 and 1 (the country, a few regions) come as one file of every
# region; finer levels region by region, only for the regions in view.
COLLECTION_LEVELS = 2


_LEVELS: dict[tuple[int, str], ShapeFile] = {}


def _encoded(data: dict[str, Any]) -> ShapeFile:
    body = json.dumps(data, separators=(",", ":")).encode()
    return ShapeFile(body, gzip.compress(body, 6), hashlib.sha256(body).hexdigest()[:20])


def _unwrapped(geometry: dict[str, Any]) -> dict[str, Any]:
    """A shape across the antimeridian drawn whole: western longitudes moved east of 180°."""
    points = list(_coordinates(geometry))
    if not points or max(p[0] for p in points) - min(p[0] for p in points) <= 180:
        return geometry
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    moved = [
        [[[x + 360 if x < 0 else x, y] for x, y, *_r in ring] for ring in polygon] for polygon in polygons
    ]
    return {"type": "MultiPolygon", "coordinates": moved}


def _level(session: Session, level: int) -> ShapeFile:
    """A level's shapes, built once per process and change of the regions' shapes."""
    count, last, size = session.execute(
        select(func.count(Region.id), func.max(Region.id), func.sum(func.length(Region.geometry)))
    ).one()
    key = (level, f"{count}.{last}.{size}")
    cached = _LEVELS.get(key)
    if cached is not None:
        return cached
    features = []
    rows = session.execute(select(Region.iso_code, Region.country, Region.geometry).order_by(Region.iso_code))
    for iso, country, text in rows:
        try:
            geometry = json.loads(text) if text else None
        except ValueError:
            geometry = None
        if not geometry or geometry.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {"iso": iso, "country": country},
                "geometry": _unwrapped(simplified(geometry, ZOOM_TOLERANCES[level])),
            }
        )
    cached = _encoded({"type": "FeatureCollection", "features": features})
    if len(_LEVELS) > 12:
        _LEVELS.clear()
    _LEVELS[key] = cached
    return cached


def shape_file(session: Session, level: int) -> ShapeFile:
    """Every region's shape at a country-wide level of detail (0 or 1) as one FeatureCollection."""
    if not 0 <= level < COLLECTION_LEVELS:
        raise NotFound(_("There is no such map detail level."))
    return _level(session, level)


_REGION_FILES: dict[tuple[int, str, str], ShapeFile] = {}


def region_shape_file(session: Session, level: int, iso: str) -> ShapeFile:
    """One region's shape at any level of detail, as a Feature: what a zoomed-in map fetches.

    Built alone (not with the whole level), so a map asking for the dozen
    regions in view does not wait for the other hundred to be simplified.
    """
    if not 0 <= level < len(ZOOM_TOLERANCES):
        raise NotFound(_("There is no such map detail level."))
    row = session.execute(
        select(Region.iso_code, Region.country, Region.geometry, func.length(Region.geometry)).where(
            Region.iso_code == iso.upper()
        )
    ).first()
    geometry = None
    if row is not None and row[2]:
        try:
            geometry = json.loads(row[2])
        except ValueError:
            geometry = None
    if not geometry or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise NotFound(_("There is no such region."))
    key = (level, row[0], f"{row[3]}.{hash(row[2])}")
    cached = _REGION_FILES.get(key)
    if cached is None:
        if len(_REGION_FILES) > 2000:
            _REGION_FILES.clear()
        cached = _REGION_FILES[key] = _encoded(
            {
                "type": "Feature",
                "properties": {"iso": row[0], "country": row[1]},
                "geometry": _unwrapped(simplified(geometry, ZOOM_TOLERANCES[level])),
            }
        )
    return cached


# --- a PNG picture for e-mails ------------------------------------------------


def map_png(
    report: Report, *, title: str, legend: dict[str, str], width: int = 800, height: int = 560
) -> bytes:
    """The report's shapes filled by status, drawn with Pillow: no browser needed."""
    shapes: list[tuple[str, list[list[tuple[float, float]]]]] = []
    if report.level == "country":
        for row in report.rows:
            shapes.append((row.status, _rings(geometry_of(row.id, row.geometry))))
    else:
        shapes.append((GREY, _rings(geometry_of(report.total.id, report.total.geometry))))
        for row in report.rows:
            if row.points:
                shapes.append((row.status, [[(x, y) for x, y in hull(row.points)]]))
    dots = [
        (row.lon, row.lat, row.status)
        for row in report.outlets
        if row.lat is not None and row.lon is not None
    ]
    if any(x < -90 for _s, rings in shapes for ring in rings for x, _y in ring) and any(
        x > 90 for _s, rings in shapes for ring in rings for x, _y in ring
    ):
        # Shapes across the antimeridian (Chukotka): draw the far side east of 180°.
        shapes = [
            (status, [[(x + 360 if x < 0 else x, y) for x, y in ring] for ring in rings])
            for status, rings in shapes
        ]
    all_points = [p for _s, rings in shapes for ring in rings for p in ring] + [(x, y) for x, y, _s in dots]
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT_PATH), 14) if FONT_PATH.exists() else ImageFont.load_default()
    draw.text((12, 10), title, fill="#1d2430", font=font)
    if all_points:
        project = _projection(all_points, (12, 34, width - 12, height - 60))
        for status, rings in shapes:
            for ring in rings:
                if len(ring) >= 3:
                    fill = (
                        STATUS_COLOURS[status] if report.level == "country" or status != GREY else "#eef0f2"
                    )
                    draw.polygon([project(p) for p in ring], fill=fill, outline="white")
        for lon, lat, status in dots:
            x, y = project((lon, lat))
            draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=STATUS_COLOURS[status], outline="#1d2430")
    x = 12
    for status, label in legend.items():
        draw.rectangle((x, height - 34, x + 14, height - 20), fill=STATUS_COLOURS[status])
        draw.text((x + 20, height - 34), label, fill="#1d2430", font=font)
        x += 30 + int(draw.textlength(label, font=font))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _rings(geometry: Any) -> list[list[tuple[float, float]]]:
    if not geometry:
        return []
    polygons = [geometry["coordinates"]] if geometry.get("type") == "Polygon" else geometry["coordinates"]
    return [[(p[0], p[1]) for p in polygon[0]] for polygon in polygons]


def _projection(points: list[tuple[float, float]], box: tuple[int, int, int, int]):
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    mid = math.radians((min(lats) + max(lats)) / 2)
    squeeze = max(math.cos(mid), 0.2)  # equirectangular, narrowed by latitude
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    span_x = max((east - west) * squeeze, 1e-6)
    span_y = max(north - south, 1e-6)
    scale = min((box[2] - box[0]) / span_x, (box[3] - box[1]) / span_y)
    offset_x = box[0] + ((box[2] - box[0]) - span_x * scale) / 2
    offset_y = box[1] + ((box[3] - box[1]) - span_y * scale) / 2

    def project(point: tuple[float, float]) -> tuple[float, float]:
        return (offset_x + (point[0] - west) * squeeze * scale, offset_y + (north - point[1]) * scale)

    return project
