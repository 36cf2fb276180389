"""The demo seeder and the command line."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import func, select

from catalog import demo
from catalog.models import Category, Order, Prize
from partner_club.accounts.models import Role
from partner_club.demo.world import DemoWorld
from tests.catalog.test_providers import GiftCardService


def test_demo_seed_builds_a_catalog(db, make, cat):
    rich = cat.participant(500, role=Role.OWNER)
    world = DemoWorld(
        rng=random.Random(1), now=datetime.now(UTC), admin=make.user(Role.ADMIN), regions=[make.region()]
    )
    demo.seed(db.session, world)
    db.session.commit()
    assert db.session.scalar(select(func.count(Category.id))) == 3
    prizes = db.session.scalars(select(Prize)).all()
    assert len(prizes) == len(demo.PRIZES) and all(p.picture is not None for p in prizes)
    assert any(p.provider == "giftcard_http" for p in prizes) and world.notes
    assert "1 orders" in world.notes[-1]
    order = db.session.scalars(select(Order)).one()
    assert order.user_id == rich.id and order.status == "shipped"


def test_cli_import_and_goods(app, db, cat, tmp_path, monkeypatch):
    cat.category(slug="branded")
    db.session.commit()
    path = tmp_path / "prizes.csv"
    path.write_text(
        "category,name_en,name_ru,points,value_rub,stock,provider_sku\nbranded,Pen,Ручка,50,99.9,100,PEN-1\n",
        encoding="utf-8",
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["catalog", "import", str(path)])
    assert result.exit_code == 0 and "1 created" in result.output, result.output
    path.write_text("category,name_en,name_ru,points,value_rub,stock,provider_sku\nnope,X,Х,1,1,1,X\n")
    result = runner.invoke(args=["catalog", "import", str(path)])
    assert result.exit_code != 0 and "nope" in result.output and "nothing imported" in result.output
    with GiftCardService() as service:
        monkeypatch.setitem(app.config, "GIFTCARD_URL", service.url)
        result = runner.invoke(args=["catalog", "goods"])
    assert result.exit_code == 0 and "OZON-1000" in result.output
    assert "0 orders asked again" in runner.invoke(args=["catalog", "retry"]).output
