"""Which regions are neighbours: distributors serve across a border, a city its oblast above all.

Two regions are neighbours when their bundled boundaries come within `TOUCH_KM`
of each other (computed once per database from the regions' simplified
polygons), or, for a region without a shape, when their bounding boxes touch.
A short list of city and surrounding oblast pairs holds whatever the shapes say.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from partner_club.regions import geo
from partner_club.regions.models import Region

TOUCH_KM = 15.0
# A city and the oblast around it trade as one market, whatever a simplified border says.
LISTED = (
    ("RU-SPE", "RU-LEN"),
    ("RU-MOW", "RU-MOS"),
    ("RU-SEV", "UA-43"),
    ("KZ-ALA", "KZ-ALM"),
    ("KZ-AST", "KZ-AKM"),
    ("KZ-SHY", "KZ-YUZ"),
)
_CACHE: dict[str, tuple[int, frozenset[frozenset[int]]]] = {}


def neighbour_pairs(session: Session) -> frozenset[frozenset[int]]:
    """Pairs of neighbouring region ids; recomputed when the regions' codes or boxes change."""
    key = str(session.get_bind().url)
    fingerprint = hash(
        tuple(session.execute(select(Region.id, Region.iso_code, Region.bbox).order_by(Region.id)))
    )
    kept = _CACHE.get(key)
    if kept is not None and kept[0] == fingerprint:
        return kept[1]
    rows = session.execute(
        select(Region.id, Region.iso_code, Region.bbox, Region.geometry).order_by(Region.id)
    ).all()
    pairs = compute_pairs((i, iso, bbox, geometry) for i, iso, bbox, geometry in rows)
    _CACHE[key] = (fingerprint, pairs)
    return pairs


def compute_pairs(regions: Iterable[tuple[int, str, str | None, str | None]]) -> frozenset[frozenset[int]]:
    shapes: dict[int, tuple[tuple[float, float, float, float], np.ndarray | None]] = {}
    ids_by_iso: dict[str, int] = {}
    for region_id, iso, bbox, geometry in regions:
        ids_by_iso[iso] = region_id
        points = None
        if geometry:
            try:
                shape = geo.shape_of(geometry)
            except geo.GeometryError:
                shape = None
            if shape is not None:
                points = np.vstack([ring for polygon in shape.polygons for ring in polygon])
                shapes[region_id] = (shape.bbox, points)
                continue
        box = _bbox(bbox)
        if box is not None:
            shapes[region_id] = (box, None)
    pairs = {
        frozenset((ids_by_iso[a], ids_by_iso[b])) for a, b in LISTED if a in ids_by_iso and b in ids_by_iso
    }
    margin = TOUCH_KM / 60.0  # degrees, generous: the exact test follows
    items = sorted(shapes.items())
    for n, (a, (box_a, pts_a)) in enumerate(items):
        for b, (box_b, pts_b) in items[n + 1 :]:
            if not _boxes_touch(box_a, box_b, margin):
                continue
            if pts_a is None or pts_b is None or _closest_km(pts_a, pts_b) <= TOUCH_KM:
                pairs.add(frozenset((a, b)))
    return frozenset(pairs)


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    try:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in (text or "").split(","))
    except ValueError:
        return None
    return min_lon, min_lat, max_lon, max_lat


def _boxes_touch(a: tuple[float, ...], b: tuple[float, ...], margin: float) -> bool:
    return not (a[2] + margin < b[0] or b[2] + margin < a[0] or a[3] + margin < b[1] or b[3] + margin < a[1])


def _closest_km(a: np.ndarray, b: np.ndarray) -> float:
    """The shortest distance between two boundaries' vertices, on a local flat projection."""
    scale = np.cos(np.radians((a[:, 1].mean() + b[:, 1].mean()) / 2))
    best = np.inf
    bx, by = b[:, 0] * scale, b[:, 1]
    for start in range(0, len(a), 512):
        part = a[start : start + 512]
        dx = part[:, 0:1] * scale - bx[None, :]
        dy = part[:, 1:2] - by[None, :]
        best = min(best, float(np.sqrt(dx * dx + dy * dy).min()))
    return best * geo.KM_PER_DEGREE_LAT
