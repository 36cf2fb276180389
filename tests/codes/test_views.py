"""Codes pages through the test client."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import current_app, g
from sqlalchemy import func, select

from codes import services
from codes.models import Batch, Product, Registration
from partner_club.accounts.models import Role
from partner_club.campaigns import services as campaign_services
from partner_club.database import utcnow
from partner_club.jobs.models import Job
from partner_club.settings_store import put_setting
from tests.codes.helpers import batch, code, product


def _as(login, user):
    """A fresh client signed in as `user` (the db fixture's app context keeps
    flask-login's cached user in `g` between requests: forget it)."""
    g.pop("_login_user", None)
    client = login(user, to=current_app.test_client())
    g.pop("_login_user", None)
    return client


def test_typed_code_form_registers_and_shows_points(client, login, make, db):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    typed = code(issued, 3).lower()
    make.session.commit()
    client = _as(login, seller)
    page = client.get("/codes/register")
    assert page.status_code == 200 and "data-code-input" in page.get_data(as_text=True)
    response = client.post("/codes/register", data={"code": typed})
    assert response.status_code == 200 and "+25" in response.get_data(as_text=True)
    wrong = client.post("/codes/register", data={"code": "ABCD"})
    assert wrong.status_code == 422 and "13" in wrong.get_data(as_text=True)


def test_points_history_names_the_registered_product(client, login, make, db):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    make.session.commit()
    client = _as(login, seller)
    assert client.post("/codes/register", data={"code": code(issued, 4)}).status_code == 200
    history = client.get("/points/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert issued.product.name in history


def test_deep_link_asks_to_sign_in_then_confirms_with_one_tap(client, login, make, db):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    the_code = code(issued, 8)
    make.session.commit()
    anonymous = client.get(f"/c/{the_code}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    client = _as(login, seller)
    preview = client.get(f"/c/{the_code}")
    assert preview.status_code == 200 and "Facade paint 10 l" in preview.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Registration.id))) == 0
    done = client.post(f"/c/{the_code}")
    assert done.status_code == 200 and "+25" in done.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Registration.id))) == 1
    again = client.get(f"/c/{the_code}")
    assert again.status_code == 409


def test_deep_link_of_a_bad_code_is_counted(client, login, make, db):
    seller = make.user(Role.SELLER)
    make.session.commit()
    client = _as(login, seller)
    assert client.get("/c/ABCDEFGHJKMN0").status_code == 422
    from partner_club.throttle import failures_of

    assert failures_of(db.session, "code", f"user:{seller.id}") == 1


def test_registrations_are_scoped_by_role(client, login, make, db):
    rep, _territory, shop = make.rep_with_outlet()
    other_shop = make.outlet()
    owner = make.user(Role.OWNER, outlet=shop)
    seller = make.user(Role.SELLER, outlet=shop)
    stranger = make.user(Role.SELLER, outlet=other_shop)
    issued = batch(db.session, product(db.session, name="Visible paint"))
    hidden = batch(db.session, product(db.session, sku="HID", name="Hidden glue"))
    ctx = services.RegistrationContext()
    services.register_code(db.session, seller, code(issued, 1), channel="typed", ctx=ctx)
    services.register_code(db.session, stranger, code(hidden, 1), channel="typed", ctx=ctx)
    make.session.commit()
    for viewer, sees, scope in (
        (seller, True, ""),
        (owner, False, ""),
        (owner, True, "?scope=shop"),
        (rep, True, ""),
        (stranger, False, ""),
    ):
        client = _as(login, viewer)
        text = client.get("/codes/registrations" + scope).get_data(as_text=True)
        assert ("Visible paint" in text) is sees, (viewer.role, scope)
        assert ("Hidden glue" in text) is (viewer is stranger)


def test_admin_edits_a_product_and_sees_the_rule_history(client, login, make, db):
    admin = make.user(Role.ADMIN)
    item = product(db.session)
    make.session.commit()
    client = _as(login, admin)
    response = client.post(
        f"/codes/products/{item.id}",
        data={
            "sku": "PAINT-10L",
            "name": "Facade paint 10 l",
            "kind": "paint",
            "package": "bucket",
            "volume_m3": "0.01",
            "points": "3000/m3",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/codes/products/{item.id}").get_data(as_text=True)
    assert "3000/m3" in page and "25" in page
    bad = client.post(f"/codes/products/{item.id}", data={"sku": "PAINT-10L", "name": "x", "points": "lots"})
    assert bad.status_code == 200 and "число" in bad.get_data(as_text=True)
    assert client.get("/codes/products").status_code == 200


def test_products_import_page_lists_bad_lines(client, login, make, db):
    admin = make.user(Role.ADMIN)
    make.session.commit()
    client = _as(login, admin)
    data = {"file": (io.BytesIO(b"sku,name,kind,package,volume_m3,points\nA,B,c,d,,x\n"), "p.csv")}
    response = client.post("/codes/products/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 422 and "Строка 2" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Product.id))) == 0


def test_admin_issues_a_batch_with_a_print_job_and_downloads_its_files(
    app, client, login, make, db, work_jobs
):
    admin = make.user(Role.ADMIN)
    item = product(db.session)
    make.session.commit()
    client = _as(login, admin)
    response = client.post("/codes/batches/new", data={"product_id": item.id, "count": 30, "region_id": 0})
    assert response.status_code == 302
    work_jobs()
    issued = db.session.scalar(select(Batch))
    job = db.session.scalar(select(Job).order_by(Job.id.desc()))
    db.session.refresh(job)
    assert job.status == "finished" and job.done == 30
    page = client.get(f"/codes/batches/{issued.id}")
    assert page.status_code == 200
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"/codes/batches/{issued.id}/codes.csv").get_data(as_text=True))
        )
    )
    assert len(rows) == 30 and rows[4]["code"] == code(issued, 5)
    pdf = client.get(f"/codes/batches/{issued.id}/labels.pdf?first=1&last=30&layout=a4")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    svg = client.get(f"/codes/batches/{issued.id}/label/2.svg")
    assert svg.status_code == 200 and code(issued, 2)[:4] in svg.get_data(as_text=True)
    # The label says whose it is and what to do with it, in the reader's language.
    ru = client.get(f"/codes/batches/{issued.id}/label/2.svg", headers={"Accept-Language": "ru"})
    host = app.config["PUBLIC_URL"].split("://", 1)[-1]
    assert f"Сканируйте камерой телефона или введите код на {host}" in ru.get_data(as_text=True)
    assert ">Клуб партнёров<" in ru.get_data(as_text=True)
    put_setting(db.session, "brand_name", "Клуб мастеров Колор")
    db.session.commit()
    branded = client.get(f"/codes/batches/{issued.id}/label/2.svg", headers={"Accept-Language": "ru"})
    assert ">Клуб мастеров Колор<" in branded.get_data(as_text=True)
    png = client.get(f"/codes/batches/{issued.id}/label/2.png")
    assert png.data.startswith(b"\x89PNG")
    assert client.get(f"/codes/batches/{issued.id}/label/31.png").status_code == 404
    for status in ("printed", "activated"):
        client.post(f"/codes/batches/{issued.id}/status", data={"status": status})
    client.post(
        f"/codes/batches/{issued.id}/void-range", data={"from_serial": 3, "to_serial": 4, "reason": "torn"}
    )
    db.session.expire_all()
    issued = db.session.get(Batch, issued.id)
    assert issued.status == "activated" and [(r.from_serial, r.to_serial) for r in issued.voided_ranges] == [
        (3, 4)
    ]


def test_participants_cannot_open_admin_pages(client, login, make, db):
    seller = make.user(Role.SELLER)
    make.session.commit()
    client = _as(login, seller)
    assert client.get("/codes/batches").status_code == 403
    assert client.get("/codes/products/new").status_code == 403


def test_the_answer_says_where_the_points_came_from(client, login, make, db):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    spring = campaign_services.create_campaign(
        db.session,
        campaign_services.CampaignData(
            name_ru="Весна",
            name_en="Spring",
            starts_at=utcnow() - timedelta(days=1),
            ends_at=utcnow() + timedelta(days=30),
            mechanic="multiplier",
            value=2.0,
        ),
        actor=None,
    )
    campaign_services.move(db.session, spring, "launch", actor=None, now=utcnow())
    make.session.commit()
    client = _as(login, seller)
    page = client.post("/codes/register", data={"code": code(issued, 4)}, headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "+50" in text
    assert "25 base + 25 «Весна» (×2) = 50" in text  # the campaign in the person's language
    history = client.get("/points/history", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "25 base + 25 «Весна» (×2) = 50" in history  # the ledger entry keeps the breakdown
