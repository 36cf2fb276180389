"""Plane geometry on a region's GeoJSON shape: is a point inside, a random point inside.

Everything takes and returns (lat, lon) in that order, like the CSV files and
the Outlet model; GeoJSON itself stores (lon, lat), which only this module sees.
Shapes are small (a simplified boundary has hundreds of vertices), so ray
casting over numpy arrays is fast enough for imports and the demo world, and
the bounding box answers most "no" questions before any ring is looked at.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np

KM_PER_DEGREE_LAT = 110.574
KM_PER_DEGREE_LON_AT_EQUATOR = 111.320

K = TypeVar("K")


class GeometryError(ValueError):
    """A geometry that is not a usable Polygon or MultiPolygon."""


@dataclass(frozen=True)
class Shape:
    """A (multi)polygon as numpy rings: polygons[i] = (outer, *holes), each ring (n x 2) lon/lat."""

    polygons: tuple[tuple[np.ndarray, ...], ...]
    bbox: tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat

    def in_bbox(self, lat: float, lon: float) -> bool:
        min_lon, min_lat, max_lon, max_lat = self.bbox
        return min_lon <= lon <= max_lon and min_lat <= lat <= max_lat


def _ring(raw: Any) -> np.ndarray:
    try:
        ring = np.asarray(raw, dtype=float)
    except (TypeError, ValueError):
        raise GeometryError("a ring holds something other than coordinate pairs") from None
    if ring.ndim != 2 or ring.shape[1] < 2 or len(ring) < 4:
        raise GeometryError("a ring needs at least 4 [lon, lat] positions")
    ring = ring[:, :2]
    if not np.all(np.isfinite(ring)):
        raise GeometryError("a ring holds a coordinate that is not a number")
    if np.any(np.abs(ring[:, 0]) > 180) or np.any(np.abs(ring[:, 1]) > 90):
        raise GeometryError("a coordinate is out of range (longitude ±180, latitude ±90)")
    if not np.array_equal(ring[0], ring[-1]):  # tolerate unclosed rings by closing them
        ring = np.vstack([ring, ring[:1]])
    return ring


def parse_shape(geometry: str | dict[str, Any] | None) -> Shape:
    """A Shape from a GeoJSON Polygon/MultiPolygon (dict or JSON text); GeometryError if unusable."""
    if isinstance(geometry, str):
        try:
            geometry = json.loads(geometry)
        except ValueError:
            raise GeometryError("the geometry is not valid JSON") from None
    if not isinstance(geometry, dict):
        raise GeometryError("the geometry is missing")
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        raw_polygons = [coordinates]
    elif kind == "MultiPolygon":
        raw_polygons = coordinates
    else:
        raise GeometryError(f"the geometry is a {kind!r}, not a Polygon or MultiPolygon")
    if not isinstance(raw_polygons, list) or not raw_polygons:
        raise GeometryError("the geometry has no polygons")
    polygons = []
    for raw in raw_polygons:
        if not isinstance(raw, list) or not raw:
            raise GeometryError("a polygon has no rings")
        polygons.append(tuple(_ring(r) for r in raw))
    outers = np.vstack([p[0] for p in polygons])
    bbox = (
        float(outers[:, 0].min()),
        float(outers[:, 1].min()),
        float(outers[:, 0].max()),
        float(outers[:, 1].max()),
    )
    return Shape(tuple(polygons), bbox)


@lru_cache(maxsize=512)
def shape_of(geometry_text: str) -> Shape:
    """parse_shape with a cache: regions keep their geometry as JSON text."""
    return parse_shape(geometry_text)


def bbox_text(shape: Shape) -> str:
    return ",".join(f"{v:.4f}" for v in shape.bbox)


def _in_ring(ring: np.ndarray, lat: float, lon: float) -> bool:
    """Ray casting: count edges crossed by a ray from the point towards +longitude."""
    x1, y1 = ring[:-1, 0], ring[:-1, 1]
    x2, y2 = ring[1:, 0], ring[1:, 1]
    straddles = (y1 > lat) != (y2 > lat)
    if not straddles.any():
        return False
    x1, y1, x2, y2 = x1[straddles], y1[straddles], x2[straddles], y2[straddles]
    crossing_x = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
    return bool(np.count_nonzero(lon < crossing_x) % 2)


def contains(shape: Shape, lat: float, lon: float) -> bool:
    """True when the point lies inside the shape (inside an outer ring, outside its holes)."""
    if not shape.in_bbox(lat, lon):
        return False
    for outer, *holes in shape.polygons:
        if _in_ring(outer, lat, lon) and not any(_in_ring(h, lat, lon) for h in holes):
            return True
    return False


def distance_to_border_km(shape: Shape, lat: float, lon: float) -> float:
    """Approximate distance from the point to the nearest edge of the shape, in km.

    Uses a flat projection around the point, good to a few percent over the
    tens of kilometres where the answer matters.
    """
    kx = KM_PER_DEGREE_LON_AT_EQUATOR * math.cos(math.radians(lat))
    best = math.inf
    for polygon in shape.polygons:
        for ring in polygon:
            xs = (ring[:, 0] - lon) * kx
            ys = (ring[:, 1] - lat) * KM_PER_DEGREE_LAT
            ax, ay, bx, by = xs[:-1], ys[:-1], xs[1:], ys[1:]
            dx, dy = bx - ax, by - ay
            length2 = dx * dx + dy * dy
            with np.errstate(invalid="ignore", divide="ignore"):
                t = np.where(length2 > 0, -(ax * dx + ay * dy) / length2, 0.0)
            t = np.clip(t, 0.0, 1.0)
            distances = np.hypot(ax + t * dx, ay + t * dy)
            best = min(best, float(distances.min()))
    return best


def random_point(shape: Shape, rng: random.Random, *, max_tries: int = 100_000) -> tuple[float, float]:
    """A uniformly random (lat, lon) inside the shape, by rejection sampling in its bounding box."""
    min_lon, min_lat, max_lon, max_lat = shape.bbox
    for _ in range(max_tries):
        lat, lon = rng.uniform(min_lat, max_lat), rng.uniform(min_lon, max_lon)
        if contains(shape, lat, lon):
            return lat, lon
    raise GeometryError("no point found inside the shape; is it empty?")


def random_point_near(
    shape: Shape, rng: random.Random, centre: tuple[float, float], *, spread_km: float, tries: int = 200
) -> tuple[float, float]:
    """A random (lat, lon) inside the shape, scattered normally around a centre (a town)."""
    lat0, lon0 = centre
    kx = KM_PER_DEGREE_LON_AT_EQUATOR * math.cos(math.radians(lat0))
    for _ in range(tries):
        lat = lat0 + rng.gauss(0.0, spread_km) / KM_PER_DEGREE_LAT
        lon = lon0 + rng.gauss(0.0, spread_km) / kx
        if contains(shape, lat, lon):
            return lat, lon
    return random_point(shape, rng)


def locate(shapes: Iterable[tuple[K, Shape]], lat: float, lon: float) -> K | None:
    """The key of the first shape containing the point, or None."""
    for key, shape in shapes:
        if contains(shape, lat, lon):
            return key
    return None


def nearest(shapes: Sequence[tuple[K, Shape]], lat: float, lon: float, *, within_km: float) -> K | None:
    """The key of the shape containing the point, else of the closest one within `within_km`."""
    found = locate(shapes, lat, lon)
    if found is not None or within_km <= 0:
        return found
    margin_lat = within_km / KM_PER_DEGREE_LAT
    candidates = []
    for key, shape in shapes:
        _, min_lat, _, max_lat = shape.bbox
        if min_lat - margin_lat <= lat <= max_lat + margin_lat:
            distance = distance_to_border_km(shape, lat, lon)
            if distance <= within_km:
                candidates.append((distance, key))
    return min(candidates, key=lambda item: item[0])[1] if candidates else None
