"""A campaign's forecast replays past registrations; its uplift compares it with the control group."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale

from codes.models import Registration
from partner_club.accounts.models import Role
from partner_club.campaigns import services
from partner_club.campaigns.evaluate import in_control_group
from partner_club.database import utcnow
from partner_club.settings_store import put_setting
from reports.campaign_forecast import forecast, uplift
from tests.campaigns.helpers import data
from tests.codes.helpers import batch, product


def _history(db, make, *, weeks=4, per_week=3, region=None):
    shop = make.outlet(region=region) if region else make.outlet()
    seller = make.user(Role.SELLER, outlet=shop)
    prod = product(db.session, sku="ROLL-1", points="10")
    lot = batch(db.session, prod, count=1000)
    now = utcnow()
    serial = 0
    for week in range(weeks):
        for _ in range(per_week):
            serial += 1
            db.session.add(
                Registration(
                    batch_id=lot.id,
                    serial=serial,
                    participant_id=seller.id,
                    outlet_id=shop.id,
                    product_id=prod.id,
                    points=10,
                    created_at=now - timedelta(days=7 * week + 3),
                )
            )
    db.session.flush()
    return shop, seller, now


def test_forecast_by_week_and_region_in_points_and_money(db, make):
    region = make.region("RU-SAM")
    _history(db, make, region=region)
    put_setting(db.session, "points.rub_per_point", "0.5")
    campaign = services.create_campaign(
        db.session, data(mechanic="multiplier", value=2.0, regions=["RU-SAM"]), actor=None
    )
    result = forecast(db.session, campaign, weeks=4, now=utcnow())
    assert result.points == 4 * 3 * 10
    assert result.points_by_week == [30, 30, 30, 30]
    assert result.points_by_region == {"RU-SAM": 120}
    assert str(result.money) == "60.00"
    assert result.registrations == 12


def test_forecast_counts_packages_and_stops_at_the_budget(db, make):
    _history(db, make)
    every = services.create_campaign(db.session, data(mechanic="every_nth", value=100, n=5), actor=None)
    assert forecast(db.session, every, weeks=4, now=utcnow()).points == (12 // 5) * 100
    capped = services.create_campaign(db.session, data(mechanic="bonus", value=10, budget=55), actor=None)
    result = forecast(db.session, capped, weeks=4, now=utcnow())
    assert result.points == 55
    assert result.budget_reached_week == 1


def test_uplift_against_the_control_group_in_plain_words(db, make):
    prod = product(db.session, sku="ROLL-1", points="10")
    lot = batch(db.session, prod, count=5000)
    end = utcnow() - timedelta(days=1)
    people = [make.user(Role.SELLER, outlet=make.outlet()) for _ in range(30)]
    campaign = services.create_campaign(
        db.session,
        data(mechanic="bonus", value=1, control_share=0.5, starts_at=end - timedelta(days=14), ends_at=end),
        actor=None,
    )
    serial = 0
    for seller in people:
        shop = seller.outlet
        during = 2 if in_control_group(campaign.control_seed, 0.5, shop.id) else 6
        for days_before_end, count in ((21, 2), (7, during)):
            for _ in range(count):
                serial += 1
                db.session.add(
                    Registration(
                        batch_id=lot.id,
                        serial=serial,
                        participant_id=seller.id,
                        outlet_id=shop.id,
                        product_id=prod.id,
                        points=10,
                        created_at=end - timedelta(days=days_before_end),
                    )
                )
    db.session.flush()
    result = uplift(db.session, campaign)
    assert result.shops + result.control_shops == 30 and result.control_shops >= 2
    assert abs(result.per_shop_week - 2.0) < 1e-9 and result.low > 0
    with force_locale("en"):
        assert result.words().startswith("The campaign worked: its shops registered +2.00 packages")
