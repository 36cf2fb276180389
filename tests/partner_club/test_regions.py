"""Regions: the bundled boundaries, the geometry helpers and `flask regions import`."""

from __future__ import annotations

import json
import random

import pytest
from flask_babel import force_locale
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from partner_club.regions import geo
from partner_club.regions.models import Region
from partner_club.regions.services import (
    BUNDLED_REGIONS,
    PropertyNames,
    RegionImportError,
    find_region,
    import_bundled_regions,
    import_regions,
    region_at,
    territory_for,
)
from tests.factories import Factories

# A 4x4 square with a 2x2 hole in the middle, and a separate island.
DONUT = {
    "type": "MultiPolygon",
    "coordinates": [
        [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], [[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]],
        [[[10, 10], [11, 10], [11, 11], [10, 11], [10, 10]]],
    ],
}


def feature(code, name_en="Somewhere", name_ru="Где-то", geometry=None, **extra):
    properties = {"iso_3166_2": code, "name_en": name_en, "name_ru": name_ru, **extra}
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": geometry
        or {"type": "Polygon", "coordinates": [[[48, 55], [50, 55], [50, 56], [48, 56], [48, 55]]]},
    }


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


# --- the bundled file ------------------------------------------------------


def test_bundled_file_is_small_and_has_ru_kz_ua_with_codes_and_both_names():
    assert BUNDLED_REGIONS.stat().st_size < 1_500_000
    data = json.loads(BUNDLED_REGIONS.read_text(encoding="utf-8"))
    props = [f["properties"] for f in data["features"]]
    codes = [p["iso_3166_2"] for p in props]
    assert len(codes) == len(set(codes)), "ISO codes are unique"
    by_country = {c: [p for p in props if p["country"] == c] for c in ("RU", "KZ", "UA")}
    assert len(by_country["RU"]) >= 80 and len(by_country["KZ"]) >= 14 and len(by_country["UA"]) >= 24
    for p in props:
        assert p["iso_3166_2"][:2] == p["country"]
        assert p["name_en"] and p["name_ru"]
        assert any("а" <= ch <= "я" or ch in "ёЁ" or "А" <= ch <= "Я" for ch in p["name_ru"]), p
    names = {p["iso_3166_2"]: (p["name_en"], p["name_ru"]) for p in props}
    assert names["RU-MOW"] == ("Moscow", "Москва")
    assert names["RU-MOS"] == ("Moscow Oblast", "Московская область")
    assert names["RU-TA"][1] == "Татарстан"
    assert names["KZ-ALA"] == ("Almaty", "Алматы")
    assert names["UA-30"][1] == "Киев" and names["UA-32"][1] == "Киевская область"


def test_bundled_regions_import_and_real_places_are_found(db):
    result = import_bundled_regions(db.session)
    assert result.created >= 120 and result.updated == 0
    places = {
        (55.7963, 49.1088): "RU-TA",  # Kazan
        (55.7558, 37.6173): "RU-MOW",  # Moscow, the city
        (55.9, 37.3): "RU-MOS",  # outside the city, in the oblast
        (59.9343, 30.3351): "RU-SPE",
        (56.8389, 60.6057): "RU-SVE",  # Yekaterinburg
        (43.2389, 76.8897): "KZ-ALA",  # Almaty
        (51.1694, 71.4491): "KZ-AST",  # Astana
        (50.4501, 30.5234): "UA-30",  # Kyiv
        (49.8397, 24.0297): "UA-46",  # Lviv
        (66.0, 170.0): "RU-CHU",  # Chukotka, east of 180 degrees too:
        (67.0, -175.0): "RU-CHU",
    }
    for (lat, lon), code in places.items():
        region = region_at(db.session, lat, lon)
        assert region is not None and region.iso_code == code, (lat, lon, region)
    assert region_at(db.session, 0.0, 0.0) is None
    assert region_at(db.session, 48.8566, 2.3522) is None  # Paris


def test_find_region_by_code_or_either_name(db):
    import_bundled_regions(db.session)
    assert find_region(db.session, "ru-ta").iso_code == "RU-TA"
    assert find_region(db.session, "  татарстан ").iso_code == "RU-TA"
    assert find_region(db.session, "Republic of Tatarstan").iso_code == "RU-TA"
    assert find_region(db.session, "Свердловская  область").iso_code == "RU-SVE"
    assert find_region(db.session, "Atlantis") is None


# --- geometry --------------------------------------------------------------


def test_point_in_polygon_with_hole_and_islands():
    shape = geo.parse_shape(DONUT)
    assert shape.bbox == (0.0, 0.0, 11.0, 11.0)
    assert geo.contains(shape, lat=0.5, lon=0.5)
    assert geo.contains(shape, lat=3.5, lon=2.0)
    assert not geo.contains(shape, lat=2.0, lon=2.0)  # in the hole
    assert geo.contains(shape, lat=10.5, lon=10.5)  # on the island
    assert not geo.contains(shape, lat=7.0, lon=7.0)  # inside the bbox, in no polygon
    assert not geo.contains(shape, lat=-1.0, lon=2.0)  # outside the bbox


@settings(max_examples=300, deadline=None)
@given(st.floats(-1, 12, allow_nan=False), st.floats(-1, 12, allow_nan=False))
def test_point_in_polygon_agrees_with_the_obvious_answer(lat, lon):
    def strictly(a, low, high):
        return low < a < high

    # Stay clear of the edges, where "inside" depends on float rounding.
    edges = (0, 1, 3, 4, 10, 11)
    if any(abs(lat - e) < 1e-9 or abs(lon - e) < 1e-9 for e in edges):
        return
    in_square = strictly(lat, 0, 4) and strictly(lon, 0, 4)
    in_hole = strictly(lat, 1, 3) and strictly(lon, 1, 3)
    in_island = strictly(lat, 10, 11) and strictly(lon, 10, 11)
    expected = (in_square and not in_hole) or in_island
    assert geo.contains(geo.parse_shape(DONUT), lat, lon) is expected


def test_random_points_fall_inside_and_are_reproducible():
    shape = geo.parse_shape(DONUT)
    points = [geo.random_point(shape, random.Random(7)) for _ in range(3)]
    assert points[0] == points[1] == points[2]
    rng = random.Random(1)
    for _ in range(200):
        lat, lon = geo.random_point(shape, rng)
        assert geo.contains(shape, lat, lon)
    lat, lon = geo.random_point_near(shape, rng, (2.0, 2.0), spread_km=50)
    assert geo.contains(shape, lat, lon)


def test_distance_to_border_and_nearest():
    shape = geo.parse_shape(DONUT)
    # 0.1 degree of latitude is about 11 km.
    assert geo.distance_to_border_km(shape, lat=-0.1, lon=2.0) == pytest.approx(11.06, abs=0.1)
    shapes = [("donut", shape)]
    assert geo.nearest(shapes, -0.1, 2.0, within_km=5) is None
    assert geo.nearest(shapes, -0.1, 2.0, within_km=20) == "donut"


@pytest.mark.parametrize(
    ("geometry", "words"),
    [
        ({"type": "Point", "coordinates": [1, 2]}, "not a Polygon"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "at least 4"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 95], [0, 0]]]}, "out of range"),
        ({"type": "Polygon", "coordinates": [[[0, 0], ["a", 0], [1, 1], [0, 0]]]}, "coordinate"),
    ],
)
def test_unusable_geometries_are_refused(geometry, words):
    with pytest.raises(geo.GeometryError, match=words):
        geo.parse_shape(geometry)


# --- import -----------------------------------------------------------------


def test_import_upserts_by_code_and_reads_other_property_names(db):
    import_regions(db.session, collection(feature("RU-TA", "Tatarstan", "Татарстан")))
    other = {
        "type": "Feature",
        "properties": {"code": "RU-TA", "title": "Republic of Tatarstan"},
        "geometry": DONUT,
    }
    result = import_regions(
        db.session, collection(other), names=PropertyNames(code="code", name_en="title", name_ru="title_ru")
    )
    assert (result.created, result.updated) == (0, 1)
    region = db.session.scalar(select(Region).where(Region.iso_code == "RU-TA"))
    assert region.name_en == "Republic of Tatarstan"
    assert region.name_ru == "Republic of Tatarstan"  # no Russian name: the English one stands in
    assert region.bbox == "0.0000,0.0000,11.0000,11.0000"
    assert region.country == "RU"


def test_bad_features_are_reported_by_index_and_nothing_is_imported(db):
    data = collection(
        feature("RU-TA"),
        feature(""),  # 1: no code
        feature("Tatarstan"),  # 2: not a code
        feature("RU-TA"),  # 3: duplicate
        feature("RU-SVE", name_en=""),  # 4: no name
        feature("RU-SPE", geometry={"type": "Point", "coordinates": [30, 60]}),  # 5
        "not a feature",  # 6
    )
    with force_locale("en"), pytest.raises(RegionImportError) as caught:
        import_regions(db.session, data)
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == [f"Feature {i}" for i in range(1, 7)]
    assert "feature 0" in problems[2]
    assert db.session.scalar(select(func.count(Region.id))) == 0


def test_cli_imports_the_bundled_file_and_any_other(app, db, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["regions", "import"])
    assert result.exit_code == 0, result.output
    count = db.session.scalar(select(func.count(Region.id)))
    assert count >= 120

    path = tmp_path / "mine.geojson"
    path.write_text(
        json.dumps(
            collection(
                {"type": "Feature", "properties": {"ISO": "XX-AB", "NAME": "Testland"}, "geometry": DONUT}
            )
        )
    )
    result = runner.invoke(
        args=["regions", "import", str(path), "--code-property", "ISO", "--name-en-property", "NAME"]
    )
    assert result.exit_code == 0, result.output
    assert find_region(db.session, "XX-AB").name_en == "Testland"
    assert db.session.scalar(select(func.count(Region.id))) == count + 1

    path.write_text(json.dumps(collection(feature("XX-CD"), feature("bad"))))
    result = runner.invoke(args=["regions", "import", str(path)])
    assert result.exit_code == 1
    assert "Объект 1:" in result.output  # the club's default language is Russian
    assert find_region(db.session, "XX-CD") is None

    path.write_text("{not json")
    result = runner.invoke(args=["regions", "import", str(path)])
    assert result.exit_code == 1 and "JSON" in result.output and "ничего не загружено" not in result.output


def test_territory_for_creates_one_per_rep_and_region(db, make: Factories):
    region = make.region(name_ru="Татарстан")
    rep = make.user("rep", full_name="Иван Петров")
    territory, created = territory_for(db.session, rep, region)
    assert created and territory.name == "Иван Петров — Татарстан" and territory.rep_id == rep.id
    again, created = territory_for(db.session, rep, region)
    assert again.id == territory.id and not created
    namesake = make.user("rep", full_name="Иван Петров")
    other, created = territory_for(db.session, namesake, region)
    assert created and other.name == "Иван Петров — Татарстан (2)"
