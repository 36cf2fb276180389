"""flask products import / codes generate / codes activate."""

from __future__ import annotations

import csv

from sqlalchemy import func, select

from codes import issuing, services
from codes.models import Batch, Product, ProductRuleChange
from partner_club.accounts.models import Role

GOOD = (
    "sku,name,kind,package,volume_m3,points\n"
    "PAINT-10L,Facade paint 10 l,paint,bucket,0.01,25\n"
    "BEAM-6M,Beam 6 m,timber,piece,0.0375,120/m3\n"
)


def test_products_import_creates_and_updates_with_history(app, db, tmp_path):
    path = tmp_path / "products.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["products", "import", str(path)])
    assert result.exit_code == 0, result.output
    beam = db.session.scalar(select(Product).where(Product.sku == "BEAM-6M"))
    assert beam.points == 4 and beam.rule_text == "120/m3"
    path.write_text(GOOD.replace("120/m3", "200/m3"), encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["products", "import", str(path)]).exit_code == 0
    db.session.expire_all()
    history = db.session.scalars(
        select(ProductRuleChange.rule_value)
        .where(ProductRuleChange.product_id == beam.id)
        .order_by(ProductRuleChange.id)
    ).all()
    assert history == [120, 200]


def test_products_import_reports_every_bad_row_and_imports_nothing(app, db, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        GOOD + ",No sku,x,y,1,5\nGLUE,Glue,glue,tube,,ten\nPLANK,Plank,timber,piece,,3/m3\n", encoding="utf-8"
    )
    result = app.test_cli_runner().invoke(args=["products", "import", str(path)])
    assert result.exit_code == 1
    assert "line 4" in result.output and "line 5" in result.output and "line 6" in result.output
    assert "line 2" not in result.output
    assert db.session.scalar(select(func.count(Product.id))) == 0


def test_generate_streams_codes_and_prints_the_batch_number_last(app, db, tmp_path):
    issuing.save_product(db.session, sku="PAINT-10L", name="Paint", points="25")
    db.session.commit()
    out = tmp_path / "codes.csv"
    runner = app.test_cli_runner(mix_stderr=False) if _mixes() else app.test_cli_runner()
    result = runner.invoke(
        args=["codes", "generate", "--sku", "PAINT-10L", "--count", "1500", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    number = int(result.stdout.strip().splitlines()[-1])
    batch = db.session.scalar(select(Batch).where(Batch.number == number))
    assert batch.count == 1500 and batch.status == "generated"
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 1500 and list(rows[0]) == ["serial", "code", "display", "url"]
    assert rows[99]["code"] == services.batch_code(batch, 100)
    assert rows[99]["url"] == "http://club.test/c/" + rows[99]["code"]
    activated = app.test_cli_runner().invoke(args=["codes", "activate", str(number)])
    assert activated.exit_code == 0
    db.session.expire_all()
    assert db.session.get(Batch, batch.id).status == "activated"


def test_generate_refuses_an_unknown_sku(app, db, tmp_path):
    result = app.test_cli_runner().invoke(
        args=["codes", "generate", "--sku", "NOPE", "--count", "5", "--out", str(tmp_path / "x.csv")]
    )
    assert result.exit_code != 0 and "NOPE" in result.output


def _mixes() -> bool:
    import inspect

    from click.testing import CliRunner

    return "mix_stderr" in inspect.signature(CliRunner.__init__).parameters


def test_products_import_names_over_long_fields_and_nul(app, db, tmp_path, client, make, login):
    path = tmp_path / "products.csv"
    path.write_text(
        "sku,name,kind,package,volume_m3,points\nP-1,"
        + "x" * 1001
        + ",paint,bucket,0.01,25\nP-2,A\x00B,paint,bucket,,5\n",
        encoding="utf-8",
    )
    result = app.test_cli_runner().invoke(args=["products", "import", str(path)])
    assert result.exit_code == 1 and "line 2:" in result.output and "line 3:" in result.output
    admin = make.user(Role.ADMIN)
    make.session.commit()
    login(admin)
    page = client.post(
        "/codes/products/import",
        data={"file": (path.open("rb"), "products.csv")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )
    assert page.status_code == 422 and "1001 characters" in page.get_data(as_text=True)
