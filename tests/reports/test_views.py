import csv
import io
import re

from openpyxl import load_workbook

from partner_club.accounts.models import Role
from reports.models import Target
from tests.reports.helpers import land, utc


def _world(make):
    """Two regions; a rep with a territory and two shops in the first; another rep's shop beside."""
    region = make.region("RU-TA")
    empty = make.region("RU-KO")
    rep, territory, shop = make.rep_with_outlet()
    territory.region_id = region.id
    shop.region_id = region.id
    second = make.outlet(territory=territory, region=region, name="Second shop", lat=55.5, lon=49.5)
    other_rep = make.user(Role.REP)
    other_territory = make.territory(region, rep=other_rep)
    foreign = make.outlet(territory=other_territory, region=region, name="Foreign shop")
    make.session.flush()
    return dict(
        region=region,
        empty=empty,
        rep=rep,
        territory=territory,
        shop=shop,
        second=second,
        other_rep=other_rep,
        other_territory=other_territory,
        foreign=foreign,
    )


def test_head_office_map_draws_every_region_from_local_assets(client, db, make, login):
    w = _world(make)
    land(db.session, w["shop"], at=utc(2026, 3, 3), times=5)
    db.session.add(
        Target(metric="packages", period="2026-03", scope_kind="region", region_id=w["region"].id, value=4)
    )
    head = make.user(Role.HEAD_OFFICE)
    make.session.commit()
    login(head)
    page = client.get("/reports/map?period=2026-03").get_data(as_text=True)
    assert "leaflet-1.9.4/leaflet.js" in page
    assert not re.search(r"(src|href)=\"https?://", page), "every asset must come from the app"
    assert "cdn.jsdelivr" not in page and "cdnjs" not in page
    assert "RU-TA" in page and "RU-KO" in page
    assert "/reports/map/RU-TA?period=2026-03" in page
    assert "#1e8e3e" in page  # RU-TA met its target: green
    assert client.get("/static/vendor/leaflet-1.9.4/leaflet.js").status_code == 200


def test_rep_sees_only_their_territory(client, db, make, login):
    w = _world(make)
    land(db.session, w["shop"], at=utc(2026, 3, 3), times=2)
    land(db.session, w["foreign"], at=utc(2026, 3, 3), times=7)
    make.session.commit()
    login(w["rep"])
    country = client.get("/reports/map?period=2026-03").get_data(as_text=True)
    assert "RU-TA" in country and "RU-KO" not in country
    region = client.get("/reports/map/RU-TA?period=2026-03").get_data(as_text=True)
    assert w["shop"].name in region and "Second shop" in region
    assert "Foreign shop" not in region and w["other_territory"].name not in region
    assert client.get("/reports/map/RU-KO").status_code == 403
    assert client.get(f"/reports/shop/{w['foreign'].id}").status_code == 403
    assert client.get(f"/reports/shop/{w['shop'].id}?period=2026-03").status_code == 200
    rows = list(
        csv.reader(
            io.StringIO(
                client.get("/reports/export/RU-TA/csv?period=2026-03").get_data(as_text=True).lstrip("\ufeff")
            )
        )
    )
    names = [r[2] for r in rows[1:]]
    assert "Foreign shop" not in names and w["shop"].name in names
    total = rows[1]
    assert total[0] == "region" and total[7] == "2"  # the rep's own registrations only


def test_territory_click_lists_its_shops(client, db, make, login):
    w = _world(make)
    head = make.user(Role.HEAD_OFFICE)
    make.session.commit()
    login(head)
    page = client.get(f"/reports/map/RU-TA?territory={w['territory'].id}").get_data(as_text=True)
    shops_part = page.split('id="shops"', 1)[1].split('</main>', 1)[0]
    assert "Second shop" in shops_part and "Foreign shop" not in shops_part


def test_bad_input_still_draws(client, db, make, login):
    w = _world(make)
    db.session.add(
        Target(metric="packages", period="2026-03", scope_kind="region", region_id=w["empty"].id, value=0)
    )
    head = make.user(Role.HEAD_OFFICE, locale="en")
    make.session.commit()
    login(head)
    bad = client.get("/reports/map?period=2026-13", headers={"Accept-Language": "en"})
    assert bad.status_code == 200
    assert "Month 13 does not exist" in bad.get_data(as_text=True)
    empty_period = client.get("/reports/map?period=1999-01").get_data(as_text=True)
    assert "No registrations in 1999-01" in empty_period and "leaflet" in empty_period
    no_shops = client.get("/reports/map/RU-KO?period=2026-03")
    assert no_shops.status_code == 200
    text = no_shops.get_data(as_text=True)
    assert "No shops in this region yet" in text
    assert "target met" in text  # a target of zero is met
    assert client.get("/reports/map/XX-YY").status_code == 404


def test_exports_in_csv_and_xlsx(client, db, make, login):
    w = _world(make)
    land(db.session, w["second"], at=utc(2026, 1, 10), times=3, volume=0.5)
    head = make.user(Role.HEAD_OFFICE)
    make.session.commit()
    login(head)
    response = client.get("/reports/export/xlsx?period=2026-Q1")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.values)
    assert rows[1][0] == "total" and rows[1][7] == 3
    shop_csv = client.get(f"/reports/shop/{w['second'].id}/export/csv?period=2026-01").get_data(as_text=True)
    assert "SKU-1" in shop_csv and "2026-01" in shop_csv


def test_participants_cannot_open_reports(client, db, make, login):
    seller = make.user(Role.SELLER)
    make.session.commit()
    login(seller)
    assert client.get("/reports/map").status_code == 403


def test_long_shop_tables_show_the_furthest_behind_first(client, db, make, login):
    region = make.region("RU-TA")
    shops = [make.outlet(region=region, name=f"Shop {n:03d}") for n in range(105)]
    db.session.add(
        Target(metric="packages", period="2026-03", scope_kind="outlet", outlet_id=shops[-1].id, value=50)
    )
    head = make.user(Role.HEAD_OFFICE)
    make.session.commit()
    login(head)
    page = client.get("/reports/map/RU-TA?period=2026-03").get_data(as_text=True).split("</main>")[0]
    assert page.count('data-kind="outlet"') == 100
    assert 'data-kind="outlet" data-id="%d"' % shops[-1].id in page  # behind its target: listed first
    assert "all=1" in page
    everything = client.get("/reports/map/RU-TA?period=2026-03&all=1").get_data(as_text=True)
    assert everything.split("</main>")[0].count('data-kind="outlet"') == 105


def test_regional_manager_sees_their_whole_region_only(client, db, make, login):
    w = _world(make)
    land(db.session, w["shop"], at=utc(2026, 2, 3), times=2)
    land(db.session, w["foreign"], at=utc(2026, 3, 3), times=3)
    db.session.add(
        Target(metric="packages", period="2026-Q1", scope_kind="region", region_id=w["region"].id, value=100)
    )
    manager = make.user(Role.REGIONAL_MANAGER, region_id=w["region"].id)
    make.session.commit()
    login(manager)
    country = client.get("/reports/map?period=2026-Q1").get_data(as_text=True)
    assert "RU-KO" not in country.split("</main>")[0]
    region = client.get("/reports/map/RU-TA?period=2026-Q1").get_data(as_text=True).split("</main>")[0]
    assert "Foreign shop" in region and w["shop"].name in region
    assert "status-red" in region  # 5 of 100 packages at the end of a past quarter
    assert client.get("/reports/map/RU-KO").status_code == 403


def test_a_rep_without_a_territory_is_told_so(client, db, make, login):
    rep = make.user(Role.REP, locale="en")
    make.session.commit()
    login(rep)
    response = client.get("/reports/map", headers={"Accept-Language": "en"})
    assert response.status_code == 403
    assert "no region or territory" in response.get_data(as_text=True)


def test_exports_neutralise_names_that_look_like_formulas(client, db, make, login):
    w = _world(make)
    w["second"].name = '=HYPERLINK("http://evil.example","click")'
    land(db.session, w["second"], at=utc(2026, 1, 10), times=2)
    head = make.user(Role.HEAD_OFFICE)
    make.session.commit()
    login(head)
    text = client.get(f"/reports/map/{w['region'].iso_code}").get_data(
        as_text=True
    )  # warm nothing, just a page
    assert text
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/reports/export/{w['region'].iso_code}/csv?period=2026-01")
                .get_data(as_text=True)
                .lstrip("\ufeff"),
                newline="",
            )
        )
    )
    names = [row[2] for row in rows[1:]]
    assert "'" + w["second"].name in names and w["second"].name not in names
    book = client.get(f"/reports/export/{w['region'].iso_code}/xlsx?period=2026-01").data
    cells = [row[2] for row in load_workbook(io.BytesIO(book)).active.iter_rows(min_row=2)]
    evil = [c for c in cells if c.value == "'" + w["second"].name]
    assert evil and evil[0].data_type == "s"
