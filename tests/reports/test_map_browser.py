"""A rep on a 360 px phone: the country map, a region, a territory, a shop; each level screenshotted."""

from __future__ import annotations

import re

from sqlalchemy import select

from partner_club.accounts.models import Role
from partner_club.regions.models import Region
from partner_club.regions.services import import_bundled_regions
from reports.models import Target
from tests.browser import sign_in
from tests.reports.helpers import land, utc

SHOPS = [("Краски на Баумана", 55.55, 48.6), ("Стройдвор Север", 55.75, 49.6), ("Мастер", 56.2, 49.0)]


def _point(page, lat: float, lon: float) -> tuple[float, float]:
    """Where (lat, lon) is drawn on the page, the map scrolled into view."""
    page.wait_for_selector("#kpi-map[data-ready]")
    return page.evaluate(
        """([lat, lon]) => {
        const map = document.getElementById("kpi-map").kpiMap;
        map.getContainer().scrollIntoView({block: "center"});
        const point = map.latLngToContainerPoint([lat, lon]);
        const box = map.getContainer().getBoundingClientRect();
        return [box.left + point.x, box.top + point.y];
    }""",
        [lat, lon],
    )


def _click_at(page, lat: float, lon: float, *, then: str) -> None:
    """Clicks the map where (lat, lon) is drawn and waits for the page it opens."""
    x, y = _point(page, lat, lon)
    page.mouse.click(x, y)
    page.wait_for_url(then)
    page.wait_for_load_state()
    if "/reports/map" in page.url:
        page.wait_for_selector("#kpi-map[data-ready]")


def test_rep_drills_down_from_the_map_to_a_shop(phone, make, db, screenshot):
    region = make.region("RU-TA", name_ru="Республика Татарстан", name_en="Tatarstan")
    rep = make.user(Role.REP, full_name="Ирина Представитель")
    territory = make.territory(region, rep=rep, name="Казань-Север")
    shops = [make.outlet(territory=territory, name=name, lat=lat, lon=lon) for name, lat, lon in SHOPS]
    make.outlet(
        territory=make.territory(region, name="Чужая территория"), name="Чужой магазин", lat=55.2, lon=48.2
    )
    land(db.session, shops[0], at=utc(2026, 3, 3), times=12)
    land(db.session, shops[1], at=utc(2026, 3, 4), times=2)
    db.session.add_all(
        [
            Target(
                metric="packages",
                period="2026-03",
                scope_kind="territory",
                territory_id=territory.id,
                value=10,
            ),
            Target(metric="packages", period="2026-03", scope_kind="outlet", outlet_id=shops[0].id, value=10),
            Target(metric="packages", period="2026-03", scope_kind="outlet", outlet_id=shops[1].id, value=10),
        ]
    )
    make.session.commit()
    page = phone
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, rep.login)

    page.goto("/reports/map?period=2026-03")
    page.wait_for_selector("#kpi-map[data-ready]")
    assert errors == []
    assert page.locator(".leaflet-container").count() == 1
    assert "Республика Татарстан" in page.locator(".kpi-table").inner_text()
    screenshot(page, "1-country")

    _click_at(page, 55.75, 49.0, then="**/reports/map/RU-TA?**")  # inside the region's shape
    assert "/reports/map/RU-TA" in page.url
    assert "Казань-Север" in page.locator(".kpi-table").first.inner_text()
    assert "Чужой магазин" not in page.content().split("</main>")[0]
    screenshot(page, "2-region")

    # A finger's first tap shows the territory's card instead of leaving the page.
    x, y = _point(page, 55.83, 49.07)
    page.touchscreen.tap(x, y)
    card = page.locator(".leaflet-tooltip.kpi-card")
    card.wait_for()
    assert "Казань-Север" in card.inner_text() and "/reports/map/RU-TA" in page.url
    screenshot(page, "2b-territory-card")
    _click_at(page, 55.83, 49.07, then="**territory=*")  # inside the territory, away from its shops
    assert f"territory={territory.id}" in page.url
    shops_table = page.locator("#shops ~ .table-wrap").inner_text()
    assert all(name in shops_table for name, _lat, _lon in SHOPS)
    screenshot(page, "3-territory")

    _click_at(page, 55.55, 48.6, then="**/reports/shop/*")  # the first shop's marker
    assert f"/reports/shop/{shops[0].id}" in page.url
    assert page.locator("h1").inner_text().startswith("Краски на Баумана")
    assert page.locator("svg.chart").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "4-shop")
    assert errors == []


def test_the_country_map_on_a_phone_loads_coarse_shapes_and_lists_the_programme(phone, make, db, screenshot):
    import_bundled_regions(db.session)
    tatarstan = db.session.scalar(select(Region).where(Region.iso_code == "RU-TA"))
    territory = make.territory(tatarstan, name="Казань-Центр")
    shop = make.outlet(territory=territory, region=tatarstan, name="Краски у Кремля", lat=55.79, lon=49.12)
    land(db.session, shop, at=utc(2026, 3, 3), times=4)
    db.session.add(
        Target(metric="packages", period="2026-03", scope_kind="region", region_id=tatarstan.id, value=10)
    )
    head = make.user(Role.HEAD_OFFICE)
    make.session.commit()
    page = phone
    shapes: list[str] = []
    page.on("response", lambda r: shapes.append(r.url) if "/reports/map/shapes/" in r.url else None)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, head.login)
    page.goto("/reports/map?period=2026-03")
    page.wait_for_selector("#kpi-map[data-ready]")
    assert [e for e in errors if "favicon" not in e and "404" not in e] == []
    # One country-wide file, then only the regions in view in finer detail: not all 126.
    collections = [u for u in shapes if re.search(r"/shapes/\d\.json", u)]
    regions = [u for u in shapes if re.search(r"/shapes/\d/", u)]
    assert len(collections) == 1 and any("RU-TA" in u for u in regions) and len(regions) < 30
    assert page.locator(".leaflet-overlay-pane path").count() >= 126  # land beside the programme
    assert page.locator(".map-city").count() >= 5  # the light base map's cities
    rows = page.locator(".kpi-table tbody tr")
    assert rows.count() == 1 and "Татарстан" in rows.first.inner_text()
    gap = page.locator(".kpi-table thead th").nth(2).bounding_box()
    assert gap["x"] + gap["width"] <= 360  # the gap column is on screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "1-country")
    # A tap shows the region's card, read from its table row; a second tap opens it.
    x, y = _point(page, 55.5, 50.5)
    page.touchscreen.tap(x, y)
    card = page.locator(".leaflet-tooltip.kpi-card")
    card.wait_for()
    assert "Татарстан" in card.inner_text() and "/reports/map?" in page.url
    page.touchscreen.tap(x, y)
    page.wait_for_url("**/reports/map/RU-TA?**")
    page.wait_for_selector("#kpi-map[data-ready]")
    target = page.locator(
        ".leaflet-overlay-pane path.leaflet-interactive[fill-opacity='0']"
    ).first.bounding_box()
    assert target["width"] >= 44 and target["height"] >= 44  # a shop a finger can hit
    screenshot(page, "2-region")
