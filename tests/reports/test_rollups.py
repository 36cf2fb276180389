import threading
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partner_club import companions
from partner_club.signals import RegistrationAttempt
from reports.models import DailyProductRollup, MonthlyOutletRollup, OutletActivity
from reports.rollups import DailyCounts, companion, compare, rebuild
from tests.registrations import store
from tests.reports.helpers import land, utc


def test_registration_lands_in_every_rollup_in_its_transaction(db, make):
    shop = make.outlet()
    land(db.session, shop, at=utc(2026, 3, 2, 23, 30), volume=0.25, points=7, times=3)
    land(db.session, shop, at=utc(2026, 3, 3, 0, 10), product_id=2, sku="SKU-2", volume=1.0, points=20)
    land(db.session, shop, at=utc(2026, 2, 27, 9), volume=0.25, points=7)

    daily = {
        (r.day, r.product_id): (r.registrations, r.volume_m3, r.points)
        for r in db.session.scalars(select(DailyProductRollup))
    }
    assert daily == {
        (date(2026, 3, 2), 1): (3, 0.75, 21),
        (date(2026, 3, 3), 2): (1, 1.0, 20),
        (date(2026, 2, 27), 1): (1, 0.25, 7),
    }
    monthly = {r.month: (r.registrations, r.points) for r in db.session.scalars(select(MonthlyOutletRollup))}
    assert monthly == {date(2026, 3, 1): (4, 41), date(2026, 2, 1): (1, 7)}
    activity = db.session.get(OutletActivity, shop.id)
    assert (activity.first_day, activity.last_day) == (date(2026, 2, 27), date(2026, 3, 3))


def test_rolled_back_registration_leaves_no_count(db, make):
    shop = make.outlet()
    db.session.commit()
    land(db.session, shop, at=utc(2026, 3, 2, 12))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(DailyProductRollup)) == 0


def test_registration_without_a_shop_is_not_counted(db, make):
    store(
        RegistrationAttempt(
            session=db.session,
            at=utc(2026, 3, 1),
            participant_id=1,
            outlet_id=None,
            region_id=None,
            territory_id=None,
            channel="typed",
            product_id=1,
            points=5,
        ),
        1,
    )
    assert db.session.scalar(select(func.count()).select_from(DailyProductRollup)) == 0


def test_rebuild_reports_differences_and_fixes_them(db, make):
    shop, other = make.outlet(), make.outlet()
    land(db.session, shop, at=utc(2026, 3, 2, 12), times=2)
    truth = [
        (date(2026, 3, 2), shop.id, 1, "SKU-1", 2, 1.0, 20),
        (date(2026, 3, 5), other.id, 1, "SKU-1", 1, 0.5, 10),
    ]
    report = rebuild(db.session, truth)
    assert not report.matched
    assert len(report.differences) == 1 and f"outlet {other.id}" in report.differences[0]
    again = rebuild(db.session, truth)
    assert again.matched and again.registrations == 3
    monthly = db.session.scalar(
        select(MonthlyOutletRollup.registrations).where(MonthlyOutletRollup.outlet_id == other.id)
    )
    assert monthly == 1
    assert db.session.get(OutletActivity, other.id).first_day == date(2026, 3, 5)


def test_counts_compare_with_float_tolerance():
    assert DailyCounts(1, 0.1 + 0.2, 3) != DailyCounts(1, 0.3, 3)  # dataclass equality is exact ...
    key = (date(2026, 1, 1), 1, 1)
    assert (
        compare({key: DailyCounts(1, 0.1 + 0.2, 3)}, {key: DailyCounts(1, 0.3, 3)}) == []
    )  # ... compare is not


def test_parallel_upserts_never_lose_an_increment(app, db, make):
    """Many transactions counting the same shop, product and day at once (real threads)."""
    shop_id = make.outlet().id
    db.session.commit()
    errors: list[BaseException] = []

    def register_many() -> None:
        try:
            with app.app_context():
                for _ in range(10):
                    with Session(db.engine) as session:
                        rollups = companion(
                            outlet_id=shop_id,
                            product_id=1,
                            product_sku="SKU-1",
                            at=utc(2026, 3, 2, 12),
                            volume_m3=0.5,
                            points=10,
                        )
                        companions.write_after(session, [rollups], None)
                        session.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=register_many) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if db.engine.dialect.name == "sqlite":
        errors = [e for e in errors if "database is locked" not in str(e)]  # SQLite's one writer may time out
    assert errors == []
    db.session.expire_all()
    daily = db.session.scalar(select(DailyProductRollup))
    monthly = db.session.scalar(select(MonthlyOutletRollup))
    assert daily.registrations == monthly.registrations
    if db.engine.dialect.name == "postgresql":
        assert daily.registrations == 60 and daily.points == 600
