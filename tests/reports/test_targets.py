import io

import pytest
from sqlalchemy import func, select

from partner_club.accounts.models import Role
from partner_club.errors import Invalid
from reports.models import Target
from reports.targets import import_targets, set_target


def test_csv_import_reports_unknown_regions_by_line_and_writes_nothing(app, db, make):
    region = make.region("RU-TA")
    territory = make.territory(region, name="Kazan North")
    shop = make.outlet(region=region, external_id="SHOP-1")
    data = (
        "scope,code,metric,period,value\n"
        "region,RU-TA,packages,2026-Q1,1200\n"
        "region,RU-ZZ,packages,2026-Q1,10\n"
        "territory,RU-TA:Kazan North,volume_m3,2026-03,40,5\n"
        "shop,SHOP-1,active_share,2026-13,80\n"
        "shop,SHOP-2,points,2026,abc\n"
    )
    with app.test_request_context(headers={"Accept-Language": "en"}):
        result = import_targets(db.session, data.encode(), actor=None)
    lines = dict(result.errors)
    assert sorted(lines) == [3, 5, 6]
    assert "RU-ZZ" in lines[3] and "Month 13" in lines[5] and "SHOP-2" in lines[6]
    assert db.session.scalar(select(func.count()).select_from(Target)) == 0

    good = (
        "scope,code,metric,period,value\n"
        "region,ru-ta,packages,2026-q1,1200\n"
        f"territory,RU-TA:{territory.name},volume_m3,2026-03,\"40,5\"\n"
        "shop,SHOP-1,active_share,2026,0\n"
    )
    result = import_targets(db.session, ("\ufeff" + good).encode(), actor=None)
    assert result.errors == [] and result.saved == 3
    saved = {(t.scope_kind, t.metric, t.period, t.value) for t in db.session.scalars(select(Target))}
    assert saved == {
        ("region", "packages", "2026-Q1", 1200),
        ("territory", "volume_m3", "2026-03", 40.5),
        ("outlet", "active_share", "2026", 0),
    }
    assert shop.id in {t.outlet_id for t in db.session.scalars(select(Target))}
    # Loading again replaces, never duplicates.
    assert import_targets(db.session, good.encode()).saved == 3
    assert db.session.scalar(select(func.count()).select_from(Target)) == 3


def test_a_file_without_the_header_says_so(app, db):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        result = import_targets(db.session, b"region;RU-TA;packages;2026;5\n")
    assert result.errors and "Missing columns" in result.errors[0][1]


def test_negative_and_unknown_metric_are_refused(app, db, make):
    region = make.region()
    with pytest.raises(Invalid):
        set_target(
            db.session, scope_kind="region", scope_id=region.id, metric="packages", period="2026", value=-1
        )
    with pytest.raises(Invalid):
        set_target(
            db.session, scope_kind="region", scope_id=region.id, metric="smiles", period="2026", value=1
        )


def test_targets_page_loads_csv_and_lists_bad_lines(client, db, make, login):
    make.region("RU-TA")
    head = make.user(Role.ADMIN, locale="en")  # head office only reads targets
    make.session.commit()
    login(head)
    bad = b"scope,code,metric,period,value\nregion,RU-XX,packages,2026-03,5\n"
    response = client.post(
        "/reports/targets",
        data={"file": (io.BytesIO(bad), "targets.csv")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Line 2" in text and "Unknown region" in text
    good = b"scope,code,metric,period,value\nregion,RU-TA,packages,2026-03,5\n"
    response = client.post(
        "/reports/targets",
        data={"file": (io.BytesIO(good), "targets.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    listed = client.get("/reports/targets?period=2026-03").get_data(as_text=True)
    assert "RU-TA" in listed
    response = client.post(
        "/reports/targets",
        data={"scope": "region", "code": "RU-TA", "metric": "points", "period": "2026-03", "value": "0"},
    )
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Target)) == 2
    rep = make.user(Role.REP)
    make.session.commit()
    client.post("/logout")
    login(rep)
    assert client.get("/reports/targets").status_code == 403
