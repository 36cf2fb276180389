"""The codes demo seeder on a small demo world."""

from __future__ import annotations

from sqlalchemy import func, select

from codes import demo
from codes.models import Batch, Product, Registration
from partner_club.demo.seed import seed_demo
from partner_club.ledger.models import LedgerEntry


def test_demo_seed_makes_products_batches_and_registrations_with_points(db):
    world = seed_demo(db.session, [demo.seed], shops=8)
    db.session.commit()
    assert db.session.scalar(select(func.count(Product.id))) == len(demo.PRODUCTS)
    assert db.session.scalar(select(func.count(Batch.id)).where(Batch.status == "activated")) == len(
        demo.PRODUCTS
    )
    registrations = db.session.scalar(select(func.count(Registration.id)))
    assert registrations > 8
    points = db.session.scalar(select(func.sum(Registration.points)))
    credited = db.session.scalar(
        select(func.sum(LedgerEntry.amount)).where(LedgerEntry.cause_type == "registration")
    )
    assert points == credited
    assert any("Try code" in note for note in world.notes)
