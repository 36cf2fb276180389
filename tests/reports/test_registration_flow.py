"""Registrations made by codes' own service are folded into the rollups; rebuild proves it."""

from datetime import date, timedelta

from sqlalchemy import select, update

from codes import services as codes_services
from codes.models import Registration, RegistrationStatus
from partner_club.accounts.models import Role
from partner_club.signals import registration_reviewed
from reports.models import DailyProductRollup, MonthlyOutletRollup
from reports.rollups import fold_registrations
from tests.codes.helpers import batch, code, product
from tests.reports.helpers import utc


def _register(db, make, *, days: int = 3):
    shop = make.outlet()
    seller = make.user(Role.SELLER, outlet=shop)
    paint = product(db.session, sku="PAINT-10L", points="25", volume=0.01)
    issued = batch(db.session, paint, count=50)
    start = utc(2026, 3, 1, 10)
    for serial in range(1, days + 1):
        codes_services.register_code(
            db.session,
            seller,
            code(issued, serial),
            channel="typed",
            ctx=codes_services.RegistrationContext(at=start + timedelta(days=serial)),
        )
    fold_registrations(db.session)  # what the job does within a minute of the commit
    return shop, seller, issued


def test_codes_registrations_land_in_rollups(db, make):
    shop, _seller, _batch = _register(db, make)
    rows = db.session.execute(
        select(
            DailyProductRollup.day,
            DailyProductRollup.registrations,
            DailyProductRollup.points,
            DailyProductRollup.product_sku,
        )
    ).all()
    assert sorted(rows) == [(date(2026, 3, d), 1, 25, "PAINT-10L") for d in (2, 3, 4)]
    monthly = db.session.scalar(select(MonthlyOutletRollup).where(MonthlyOutletRollup.outlet_id == shop.id))
    assert monthly.registrations == 3 and abs(monthly.volume_m3 - 0.03) < 1e-9


def test_rebuild_command_matches_and_catches_drift(app, db, make):
    _shop, _seller, _batch = _register(db, make)
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reports", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "3 registrations" in result.output and "matched" in result.output

    db.session.execute(
        update(DailyProductRollup).where(DailyProductRollup.day == date(2026, 3, 3)).values(registrations=9)
    )
    db.session.commit()
    checked = runner.invoke(args=["reports", "rebuild", "--check"])
    assert checked.exit_code == 1 and "registrations 9 -> 1" in checked.output
    fixed = runner.invoke(args=["reports", "rebuild"])
    assert fixed.exit_code == 1 and "now fixed" in fixed.output
    assert runner.invoke(args=["reports", "rebuild"]).exit_code == 0


def test_rejected_on_review_leaves_the_rollups(db, make):
    shop, _seller, _batch = _register(db, make, days=2)
    first = db.session.scalars(select(Registration).order_by(Registration.id)).first()
    first.status = RegistrationStatus.PENDING_REVIEW.value  # as if fraud had held it
    db.session.flush()
    reviewer = make.user(Role.ADMIN)
    registration_reviewed.send(
        first.id, session=db.session, decision="reject", reviewer=reviewer, note="test"
    )
    assert first.status == RegistrationStatus.REJECTED.value
    monthly = db.session.scalar(select(MonthlyOutletRollup).where(MonthlyOutletRollup.outlet_id == shop.id))
    assert monthly.registrations == 1 and monthly.points == 25
