"""The map's shapes per zoom level: simplified within tolerance, small on the wire, cacheable."""

from __future__ import annotations

import gzip
import itertools
import json
import math

import numpy as np
from sqlalchemy import select

from partner_club.accounts.models import Role
from partner_club.regions.models import Region
from partner_club.regions.services import import_bundled_regions
from partner_club.regions.shapes import ZOOM_TOLERANCES, level_for_zoom, simplified, simplify_line
from tests.reports.helpers import land, utc


def _distance_to_polyline(point, line) -> float:
    best = math.inf
    for a, b in itertools.pairwise(line):
        a, b, p = np.asarray(a), np.asarray(b), np.asarray(point)
        ab = b - a
        t = 0.0 if not ab.any() else float(np.clip((p - a) @ ab / (ab @ ab), 0, 1))
        best = min(best, float(np.hypot(*(p - (a + t * ab)))))
    return best


def test_douglas_peucker_keeps_every_point_within_the_tolerance():
    angles = np.linspace(0, math.pi, 500)
    wavy = np.column_stack([angles, np.sin(angles) + 0.003 * np.sin(40 * angles)])
    line = simplify_line(wavy, 0.01)
    assert 5 < len(line) < 60
    assert (line[0] == wavy[0]).all() and (line[-1] == wavy[-1]).all()
    assert max(_distance_to_polyline(p, line) for p in wavy) <= 0.01 + 1e-9


def test_a_zoom_level_drops_islands_too_small_to_see_but_never_a_whole_region():
    circle = [[50 + math.cos(a), 55 + 0.6 * math.sin(a)] for a in np.linspace(0, 2 * math.pi, 400)]
    circle[-1] = circle[0]
    island = [[53, 55], [53.01, 55], [53.01, 55.01], [53, 55.01], [53, 55]]
    shape = {"type": "MultiPolygon", "coordinates": [[circle], [island]]}
    coarse = simplified(shape, ZOOM_TOLERANCES[1])
    assert coarse["type"] == "Polygon" and 8 < len(coarse["coordinates"][0]) < 60
    # A city-sized region at country zoom: simplified less, but still drawn.
    tiny = simplified({"type": "Polygon", "coordinates": [island]}, ZOOM_TOLERANCES[0])
    assert len(tiny["coordinates"][0]) == 5
    assert [level_for_zoom(z) for z in (1, 2, 3, 4, 6, 12)] == [0, 0, 1, 1, 2, 3]


def test_shapes_are_served_per_level_small_gzipped_and_cacheable(client, db, make, login):
    import_bundled_regions(db.session)
    head = make.user(Role.HEAD_OFFICE)
    make.session.commit()
    login(head)
    coarse = client.get("/reports/map/shapes/0.json")
    assert coarse.status_code == 200 and coarse.mimetype == "application/geo+json"
    features = json.loads(coarse.data)["features"]
    assert len(features) == 126 and {f["properties"]["iso"] for f in features} >= {"RU-MOW", "UA-40"}
    # Finer levels come region by region, for the regions in view.
    assert client.get("/reports/map/shapes/2.json").status_code == 404
    fine = client.get("/reports/map/shapes/3/RU-KYA.json")
    assert json.loads(fine.data)["properties"]["iso"] == "RU-KYA"
    coarse_kya = next(f for f in features if f["properties"]["iso"] == "RU-KYA")
    assert len(fine.data) > 5 * len(json.dumps(coarse_kya))
    assert len(coarse.data) < 60_000
    assert client.get("/reports/map/shapes/3/XX-YY.json").status_code == 404
    zipped = client.get("/reports/map/shapes/0.json", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped.data) == coarse.data
    assert len(zipped.data) < 15_000
    again = client.get("/reports/map/shapes/0.json", headers={"If-None-Match": coarse.headers["ETag"]})
    assert again.status_code == 304
    assert "max-age=86400" in coarse.headers["Cache-Control"]
    # Chukotka crosses the antimeridian: drawn whole, east of 180°.
    chukotka = next(f for f in features if f["properties"]["iso"] == "RU-CHU")["geometry"]
    assert min(p[0] for poly in chukotka["coordinates"] for p in poly[0]) > 0
    assert client.get("/reports/map/shapes/9.json").status_code == 404


def test_the_country_page_lists_only_regions_in_the_programme_and_inlines_no_shapes(client, db, make, login):
    import_bundled_regions(db.session)
    tatarstan = db.session.scalar(select(Region).where(Region.iso_code == "RU-TA"))
    shop = make.outlet(region=tatarstan, name="Shop in Kazan", lat=55.79, lon=49.12)
    land(db.session, shop, at=utc(2026, 3, 3), times=3)
    head = make.user(Role.HEAD_OFFICE)
    make.session.commit()
    login(head)
    page = client.get("/reports/map?period=2026-03").get_data(as_text=True)
    table = page.split('class="kpi-table"', 1)[1].split("</table>", 1)[0]
    assert table.count('data-kind="region"') == 1 and "RU-TA" in table
    assert "125" in page.split("</table>", 1)[1].split("</p>", 1)[0]  # "125 regions ... not listed"
    assert '"coordinates"' not in page  # the shapes come from /reports/map/shapes/<level>.json
