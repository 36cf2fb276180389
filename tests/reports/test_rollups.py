import threading
from datetime import date

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from codes.models import Registration
from codes.services import RegistrationContext, register_code, store_registration
from partner_club.accounts.models import Role
from partner_club.database import utcnow
from partner_club.signals import HOLD, Assessment, registration_checks, registration_reviewed
from reports.models import DailyProductRollup, MonthlyOutletRollup, OutletActivity
from reports.periods import parse_period
from reports.rollups import (
    DailyCounts,
    compare,
    fold_registrations,
    rebuild,
    registration_daily_counts,
)
from reports.services import outlet_rows
from tests.codes.helpers import batch, code
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


def _registered(db, make, n: int, *, person=None, hold: bool = False) -> list[int]:
    person = person or make.user(Role.SELLER)
    issued = batch(db.session)

    def held(_attempt):
        return Assessment(decision=HOLD, score=99.0)

    if hold:
        registration_checks.connect(held)
    try:
        return [
            register_code(
                db.session, person, code(issued, serial), channel="typed", ctx=RegistrationContext()
            ).registration_id
            for serial in range(1, n + 1)
        ]
    finally:
        registration_checks.disconnect(held)


def _daily_total(db) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(DailyProductRollup.registrations), 0))))


def test_a_fold_counts_each_registration_once_and_the_pages_add_what_waits(db, make):
    seller = make.user(Role.SELLER)
    admin = make.user(Role.ADMIN)
    ids = _registered(db, make, 3, person=seller)
    period = parse_period(utcnow().strftime("%Y-%m"))

    def shop_figures():
        return next(r for r in outlet_rows(db.session, admin, period) if r.id == seller.outlet_id)

    assert _daily_total(db) == 0  # nothing folded inside the request
    assert shop_figures().figures.registrations == 3  # ... but the page counts them already
    assert shop_figures().last_day == utcnow().date()
    assert fold_registrations(db.session) == 3
    assert fold_registrations(db.session) == 0  # exactly once
    assert _daily_total(db) == 3 and shop_figures().figures.registrations == 3
    assert all(db.session.get(Registration, i).folded for i in ids)
    assert rebuild(db.session, registration_daily_counts(db.session), write=False).matched


def test_a_registration_without_a_shop_is_folded_and_counts_nowhere(db, make):
    person = make.user(Role.SELLER, territory_id=make.territory().id, outlet=None)
    _registered(db, make, 1, person=person)
    assert fold_registrations(db.session) == 1
    assert db.session.scalar(select(func.count()).select_from(DailyProductRollup)) == 0


def test_a_rejection_uncounts_a_folded_registration_and_the_fold_skips_an_unfolded_one(db, make):
    seller = make.user(Role.SELLER)
    first, _second = _registered(db, make, 2, person=seller, hold=True)
    fold_registrations(db.session)  # both held registrations count, as before a review
    third = _registered(db, make, 1, person=seller, hold=True)[0]  # not folded yet
    assert _daily_total(db) == 2
    for registration_id in (first, third):  # as fraud's review queue sends it
        registration_reviewed.send(registration_id, session=db.session, decision="reject", reviewer=None)
    assert _daily_total(db) == 1
    fold_registrations(db.session)
    assert _daily_total(db) == 1
    assert rebuild(db.session, registration_daily_counts(db.session), write=False).matched


def test_parallel_folds_count_every_registration_exactly_once(app, db, make):
    """Folds in several threads at once, as several workers would run them."""
    seller, issued = make.user(Role.SELLER), batch(db.session)
    for serial in range(1, 41):  # known-good registrations: no fraud checks in the way
        store_registration(db.session, seller, issued, serial, channel="typed", ctx=RegistrationContext())
    db.session.commit()  # a fold may have run after this commit: start again from nothing folded
    db.session.execute(update(Registration).values(folded=False))
    for rollup in (DailyProductRollup, MonthlyOutletRollup, OutletActivity):
        db.session.execute(delete(rollup))
    db.session.commit()
    errors: list[BaseException] = []

    def fold() -> None:
        try:
            with app.app_context(), Session(db.engine) as session:
                while fold_registrations(session, limit=3):
                    session.commit()
                session.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=fold) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if db.engine.dialect.name == "sqlite":
        errors = [e for e in errors if "database is locked" not in str(e)]  # SQLite's one writer may time out
        fold_registrations(db.session)
    assert errors == []
    db.session.expire_all()
    assert _daily_total(db) == 40
    assert rebuild(db.session, registration_daily_counts(db.session), write=False).matched


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
