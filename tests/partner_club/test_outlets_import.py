"""`flask outlets import`: shops from a CRM CSV, every bad row named, nothing half-written."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from partner_club.accounts.models import Role
from partner_club.audit.models import AuditEntry
from partner_club.errors import Invalid
from partner_club.jobs.models import Job
from partner_club.outlets.kinds import outlet_kinds
from partner_club.outlets.models import Outlet
from partner_club.outlets.services import OutletImportError, import_outlets, read_rows
from partner_club.regions.models import Territory
from tests.factories import Factories

HEADER = "external_id,name,region,lat,lon,kind,rep_email\n"


@pytest.fixture
def tatarstan(make: Factories):
    """A region shaped as the factories' square around Kazan (48-50 E, 55-56.5 N)."""
    return make.region("RU-TA", name_en="Tatarstan", name_ru="Татарстан")


@pytest.fixture
def rep(make: Factories):
    return make.user(Role.REP, login="rep@example.com", full_name="Иван Петров")


def count(db, model):
    return db.session.scalar(select(func.count(model.id)))


def test_good_file_creates_shops_in_the_reps_territory_then_updates_them(db, make, tatarstan, rep):
    data = HEADER + (
        "CRM-1,Стройдвор,RU-TA,55.79,49.12,shop,rep@example.com\n"
        "CRM-2,Мастер,Татарстан,55.70,49.30,market,REP@example.com\n"
        "CRM-3,Hardware,tatarstan,55.60,49.50,,rep@example.com\n"
    )
    result = import_outlets(db.session, data.encode())
    assert (result.created, result.updated, result.territories_created) == (3, 0, 1)
    territory = db.session.scalar(select(Territory))
    assert territory.name == "Иван Петров — Татарстан" and territory.rep_id == rep.id
    outlets = db.session.scalars(select(Outlet).order_by(Outlet.external_id)).all()
    assert [(o.external_id, o.kind, o.territory_id, o.region_id) for o in outlets] == [
        ("CRM-1", "shop", territory.id, tatarstan.id),
        ("CRM-2", "market", territory.id, tatarstan.id),
        ("CRM-3", "shop", territory.id, tatarstan.id),  # an empty kind means a shop
    ]
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "outlets.import")) is not None

    again = HEADER + "CRM-1,Стройдвор-2,RU-TA,55.80,49.10,builders_yard,rep@example.com\n"
    result = import_outlets(db.session, again.encode())
    assert (result.created, result.updated, result.territories_created) == (0, 1, 0)
    outlet = db.session.scalar(select(Outlet).where(Outlet.external_id == "CRM-1"))
    assert (outlet.name, outlet.kind, outlet.lat, outlet.lon) == (
        "Стройдвор-2",
        "builders_yard",
        55.80,
        49.10,
    )
    assert count(db, Outlet) == 3 and count(db, Territory) == 1


def test_excel_export_with_bom_semicolons_and_decimal_commas(db, tatarstan, rep):
    data = (
        "\ufeffexternal_id;name;region;lat;lon;kind;rep_email\r\n"
        "CRM-9;\"ООО «Ремонт; и точка»\";RU-TA;55,79;49,12;shop;rep@example.com\r\n"
        ";;;;;;\r\n"
    ).encode("utf-8")
    result = import_outlets(db.session, data)
    assert result.created == 1
    outlet = db.session.scalar(select(Outlet))
    assert (outlet.name, outlet.lat, outlet.lon) == ("ООО «Ремонт; и точка»", 55.79, 49.12)


def test_existing_territory_of_the_rep_in_the_region_is_used(db, make, tatarstan, rep):
    territory = make.territory(tatarstan, rep, name="Казань-север")
    result = import_outlets(db.session, HEADER + "CRM-1,Shop,RU-TA,55.79,49.12,shop,rep@example.com\n")
    assert result.territories_created == 0
    assert db.session.scalar(select(Outlet)).territory_id == territory.id


def test_every_bad_row_is_reported_by_line_and_nothing_is_imported(db, make, tatarstan, rep):
    make.user(Role.OWNER, login="owner@example.com")
    before = count(db, Outlet)
    data = HEADER + (
        "OK-1,Good shop,RU-TA,55.79,49.12,shop,rep@example.com\n"  # line 2: fine
        ",No id,RU-TA,55.79,49.12,shop,rep@example.com\n"  # 3: missing external_id
        "B-4,Shop,RU-ZZ,55.79,49.12,shop,rep@example.com\n"  # 4: unknown region
        "B-5,Shop,RU-TA,north,49.12,shop,rep@example.com\n"  # 5: lat not a number
        "B-6,Shop,RU-TA,55.79,190,shop,rep@example.com\n"  # 6: lon out of range
        "B-7,Shop,RU-TA,55.75,37.62,shop,rep@example.com\n"  # 7: Moscow, not Tatarstan
        "B-8,Shop,RU-TA,55.79,49.12,kiosk,rep@example.com\n"  # 8: unknown kind
        "B-9,Shop,RU-TA,55.79,49.12,shop,owner@example.com\n"  # 9: not a rep
        "B-10,Shop,RU-TA,55.79,49.12,shop,nobody@example.com\n"  # 10: no such user
        "OK-1,Twin,RU-TA,55.79,49.12,shop,rep@example.com\n"  # 11: duplicate id
        "\"B-12\",\"Multi\nline\",RU-TA,,49.12,shop,rep@example.com\n"  # 12-13: lat missing
        "B-14,Shop,RU-TA,55.79,49.12,shop,rep@example.com\n"  # 14: fine
        "B-15,Shop,RU-TA,49.12,55.79,shop,rep@example.com\n"  # 15: swapped
    )
    with force_locale("en"), pytest.raises(OutletImportError) as caught:
        import_outlets(db.session, data.encode())
    problems = caught.value.problems
    assert [p.line for p in problems] == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15]
    messages = {p.line: p.message for p in problems}
    assert "external_id" in messages[3]
    assert "RU-ZZ" in messages[4]
    assert "north" in messages[5] and "not a number" in messages[5]
    assert "out of range" in messages[6]
    assert "outside" in messages[7] and "km" in messages[7]
    assert "kiosk" in messages[8]
    assert "not a sales representative" in messages[9]
    assert "nobody@example.com" in messages[10]
    assert "line 2" in messages[11]
    assert "lat" in messages[12]
    assert "swapped" in messages[15]
    with force_locale("en"):
        assert str(problems[0]).startswith("Line 3: ")
    assert count(db, Outlet) == before
    assert count(db, Territory) == 0


def test_a_point_just_outside_the_simplified_border_is_accepted(db, tatarstan, rep):
    # 0.005 degrees south of the square: about 550 m, inside the default 1 km tolerance.
    import_outlets(db.session, HEADER + "E-1,Edge,RU-TA,54.995,49.0,shop,rep@example.com\n")
    with pytest.raises(OutletImportError):
        import_outlets(
            db.session, HEADER + "E-2,Edge,RU-TA,54.995,49.0,shop,rep@example.com\n", border_tolerance_km=0.1
        )


def test_header_problems_are_reported_on_line_1(db):
    with force_locale("en"), pytest.raises(OutletImportError) as caught:
        import_outlets(db.session, b"external_id,name,lat,lon\nX,Y,1,2\n")
    (problem,) = caught.value.problems
    assert problem.line == 1 and "region" in problem.message and "rep_email" in problem.message


def test_read_rows_counts_physical_lines():
    header, rows = read_rows('a;b\n1;"x\ny"\n\n2;z\n')
    assert header == ["a", "b"]
    assert [line for line, _ in rows] == [2, 5]


def test_cli_reports_each_bad_row_and_exits_with_an_error(app, db, tatarstan, rep, tmp_path):
    db.session.commit()
    path = tmp_path / "crm.csv"
    path.write_text(
        HEADER + "G-1,Good,RU-TA,55.79,49.12,shop,rep@example.com\n"
        "G-2,Bad,RU-TA,55.79,49.12,shop,ghost@example.com\n",
        encoding="utf-8",
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["outlets", "import", str(path)])
    assert result.exit_code == 1
    assert " 3: " in result.output and "ghost@example.com" in result.output
    assert count(db, Outlet) == 0

    path.write_text(HEADER + "G-1,Good,RU-TA,55.79,49.12,shop,rep@example.com\n", encoding="utf-8")
    result = runner.invoke(args=["outlets", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert count(db, Outlet) == 1


def test_not_utf8_is_refused_with_a_message(db):
    with pytest.raises(Invalid) as caught:
        import_outlets(db.session, (HEADER + "X,Магазин,RU-TA,1,1,shop,a@b.c\n").encode("cp1251"))
    assert caught.value.code == "csv_not_utf8"


def test_unknown_kinds_are_named_and_added_on_request(app, db, tatarstan, rep, tmp_path):
    db.session.commit()
    path = tmp_path / "crm.csv"
    path.write_text(
        HEADER + "K-1,Kiosk one,RU-TA,55.79,49.12,Kiosk,rep@example.com\n"
        "K-2,Yard,RU-TA,55.79,49.12,Farm store,rep@example.com\n",
        encoding="utf-8",
    )
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["outlets", "import", str(path)])
    assert refused.exit_code == 1 and "Kiosk" in refused.output and "--add-kinds" in refused.output
    assert count(db, Outlet) == 0
    added = runner.invoke(args=["outlets", "import", "--add-kinds", str(path)])
    assert added.exit_code == 0, added.output
    assert "kiosk, farm_store" in added.output
    db.session.expire_all()
    assert sorted(db.session.scalars(select(Outlet.kind))) == ["farm_store", "kiosk"]
    assert "farm_store" in outlet_kinds(db.session)


def test_a_shop_a_few_km_outside_its_region_is_imported_with_a_warning(db, tatarstan, rep):
    # 0.1 degrees south of the square: about 11 km; Moscow (line 3) stays refused.
    with force_locale("en"):
        result = import_outlets(db.session, HEADER + "W-1,Coast,RU-TA,54.9,49.0,shop,rep@example.com\n")
        (warning,) = result.warnings
        assert warning.line == 2 and "km outside" in warning.message
        with pytest.raises(OutletImportError):
            import_outlets(db.session, HEADER + "W-2,Far,RU-TA,55.75,37.62,shop,rep@example.com\n")
    assert count(db, Outlet) == 1


def test_csv_fields_over_the_limit_and_nul_are_named_by_line(db, tatarstan, rep):
    data = (
        HEADER
        + "L-1,Shop,RU-TA,55.79,49.12,shop,rep@example.com\n"
        + "L-2,"
        + "x" * 1001
        + ",RU-TA,1,1,shop,a\n"
    )
    data += "L-3,Sh\x00op,RU-TA,55.79,49.12,shop,rep@example.com\n"
    with force_locale("en"), pytest.raises(OutletImportError) as caught:
        import_outlets(db.session, data.encode())
    problems = caught.value.problems
    assert [p.line for p in problems] == [3, 4]
    assert "1001 characters" in problems[0].message and "1000" in problems[0].message
    assert "NUL" in problems[1].message


def test_the_admin_keeps_the_list_of_kinds(client, db, make, login):
    admin = make.user(Role.ADMIN)
    make.session.commit()
    login(admin)
    assert "builders_yard" in client.get("/admin/shop-kinds/").get_data(as_text=True)
    client.post("/admin/shop-kinds/", data={"name": "Farm store"})
    client.post(
        "/admin/shop-kinds/", data={"key": "farm_store", "name_en": "Farm shop", "name_ru": "Фермерский"}
    )
    db.session.expire_all()
    assert outlet_kinds(db.session)["farm_store"] == {"en": "Farm shop", "ru": "Фермерский"}


def test_a_queued_import_runs_as_a_job_with_progress(app, db, tatarstan, rep, tmp_path, work_jobs, redis_url):
    db.session.commit()
    path = tmp_path / "crm.csv"
    rows = "".join(f"Q-{n},Shop {n},RU-TA,55.79,49.12,shop,rep@example.com\n" for n in range(2100))
    path.write_text(HEADER + rows, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["outlets", "import", "--queue", str(path)])
    assert result.exit_code == 0, result.output
    assert "job " in result.output
    work_jobs()
    db.session.expire_all()
    job = db.session.scalar(select(Job).order_by(Job.id.desc()))
    assert job.status == "finished" and job.result["created"] == 2100
    assert job.done == job.total == 2100
    assert count(db, Outlet) == 2100
