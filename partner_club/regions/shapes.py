"""Simplifying region shapes: Douglas-Peucker per ring, rounding, small pieces dropped.

Used twice: `tools/build_regions.py` builds the bundled shapes with it, and
the KPI map asks for each region's shape at the detail a zoom level can show
(`simplified(geometry, ZOOM_TOLERANCES[level])`), so a phone downloads a
country of tens of kilobytes instead of the megabyte the full shapes weigh.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# Detail levels of the KPI map: Douglas-Peucker tolerance in degrees, about
# one screen pixel at the Leaflet zooms each level serves (see LEVEL_FOR_ZOOM).
ZOOM_TOLERANCES = (0.3, 0.1, 0.03, 0.01)
# Leaflet zoom -> level: a pixel is 360 / (256 * 2**zoom) degrees of longitude.
LEVEL_FOR_ZOOM = ((2, 0), (4, 1), (6, 2), (99, 3))


def simplify_line(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas-Peucker on an open polyline (n x 2), iterative, vectorised per segment."""
    n = len(points)
    if n < 3:
        return points
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        start, end = stack.pop()
        if end - start < 2:
            continue
        a, b = points[start], points[end]
        inner = points[start + 1 : end]
        ab = b - a
        length2 = float(ab @ ab)
        if length2 == 0.0:
            dist = np.hypot(*(inner - a).T)
        else:
            t = np.clip(((inner - a) @ ab) / length2, 0.0, 1.0)
            dist = np.hypot(*(inner - (a + t[:, None] * ab)).T)
        i = int(np.argmax(dist))
        if dist[i] > tolerance:
            split = start + 1 + i
            keep[split] = True
            stack.append((start, split))
            stack.append((split, end))
    return points[keep]


def ring_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))


def simplify_ring(ring: list[list[float]], tolerance: float, decimals: int) -> list[list[float]] | None:
    """A closed ring simplified and rounded, or None when it collapses."""
    points = np.asarray(ring, dtype=float)[:, :2]
    if len(points) < 4:
        return None
    # Split the ring at the vertex farthest from its start: DP needs two distinct ends.
    far = int(np.argmax(np.hypot(*(points - points[0]).T)))
    first = simplify_line(points[: far + 1], tolerance)
    second = simplify_line(points[far:], tolerance)
    out = np.round(np.vstack([first, second[1:]]), decimals)
    # Rounding can make neighbours equal: drop repeats.
    distinct = np.concatenate([[True], np.any(np.diff(out, axis=0) != 0, axis=1)])
    out = out[distinct]
    if len(out) < 4 or not np.array_equal(out[0], out[-1]) or abs(ring_area(out)) == 0.0:
        return None
    return out.tolist()


def simplify_geometry(geometry: dict, tolerance: float, decimals: int, min_area: float) -> dict:
    """A Polygon or MultiPolygon simplified; pieces under min_area dropped, the largest always kept."""
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    kept: list[tuple[float, list]] = []
    for polygon in polygons:
        outer = simplify_ring(polygon[0], tolerance, decimals)
        if outer is None:
            continue
        area = abs(ring_area(np.asarray(outer)))
        holes = [
            h
            for h in (simplify_ring(r, tolerance, decimals) for r in polygon[1:])
            if h is not None and abs(ring_area(np.asarray(h))) >= min_area
        ]
        kept.append((area, [outer, *holes]))
    if not kept:
        raise ValueError("every polygon collapsed")
    big = [polygon for area, polygon in kept if area >= min_area]
    if not big:  # a small region: keep its largest piece whatever its size
        big = [max(kept, key=lambda item: item[0])[1]]
    if len(big) == 1:
        return {"type": "Polygon", "coordinates": big[0]}
    return {"type": "MultiPolygon", "coordinates": big}


def simplified(geometry: dict[str, Any], tolerance: float) -> dict[str, Any]:
    """The shape at a map's level of detail; a region too small to survive keeps finer detail.

    Coordinates are rounded to about a third of the tolerance and islands
    smaller than a few pixels go, which is where most of the bytes were.
    """
    step = tolerance
    while step >= 1e-4:
        decimals = max(2, min(5, math.ceil(-math.log10(step / 3))))
        try:
            return simplify_geometry(geometry, step, decimals, min_area=(2 * step) ** 2)
        except ValueError:
            step /= 4  # Moscow or Sevastopol at country zoom: finer, but still drawn
    return geometry


def level_for_zoom(zoom: float) -> int:
    return next(level for top, level in LEVEL_FOR_ZOOM if zoom <= top)
