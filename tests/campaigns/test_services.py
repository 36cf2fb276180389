"""Staff services: bad input refused with a clear message and nothing saved; moves; bonuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from codes import issuing
from partner_club.accounts.models import Role
from partner_club.campaigns import bonuses, services
from partner_club.campaigns.models import Campaign
from partner_club.errors import Conflict, Invalid
from tests.campaigns.helpers import T0, data, register, running


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (dict(ends_at=T0 - timedelta(days=2)), "ends_at", "end after it starts"),
        (dict(value=0), "value", "above 0 and at most 10"),
        (dict(value=10.5), "value", "above 0 and at most 10"),
        (dict(budget=-1), "budget", "cannot be negative"),
        (dict(regions=["RU-NOWHERE"]), "audience", "matches no shop"),
        (dict(mechanic="every_nth", value=100, n=None), "n", "number of packages"),
        (dict(time_zone="Mars/Olympus"), "time_zone", "Unknown time zone"),
        (dict(mechanic="bonus", value=float("inf")), "value", "at most 1,000,000"),
        (dict(mechanic="bonus", value=float("nan")), "value", "positive number of points"),
        (dict(value=float("nan")), "value", "above 0 and at most 10"),
        (dict(mechanic="every_nth", value=100, n=10**9), "n", "number of packages"),
        (dict(budget=0), "budget", "from 1 to"),
        (dict(cap_shop_day=10**12), "cap_shop_day", "at most"),
    ],
)
def test_bad_input_is_refused_and_nothing_saved(db, make, change, field, words):
    make.user(Role.OWNER)
    with force_locale("en"), pytest.raises(Invalid) as refused:
        services.create_campaign(db.session, data(**change), actor=None)
    assert refused.value.details["field"] == field
    assert words in refused.value.message
    assert db.session.scalar(select(func.count(Campaign.id))) == 0


def test_an_audience_of_shops_without_the_chosen_people_is_refused(db, make):
    make.user(Role.OWNER)  # a shop with its owner and no seller
    with force_locale("en"), pytest.raises(Invalid) as refused:
        services.create_campaign(db.session, data(roles=["seller"]), actor=None)
    assert refused.value.details["field"] == "audience"
    assert "No active owner or seller" in refused.value.message
    assert db.session.scalar(select(func.count(Campaign.id))) == 0
    assert services.create_campaign(db.session, data(roles=["owner"]), actor=None).id


def test_products_that_match_nothing_are_refused(db, make):
    make.user(Role.OWNER)
    issuing.save_product(db.session, sku="ROLL-1", name="Roll", points="10", kind="roll", package="roll")
    for products in (dict(skus=["ROLL-9"]), dict(skus=["ROLL-1"], packages=["pallet"])):
        with force_locale("en"), pytest.raises(Invalid) as refused:
            services.create_campaign(db.session, data(**products), actor=None)
        assert refused.value.details["field"] == "skus"
        assert "No product has these SKUs" in refused.value.message
    assert db.session.scalar(select(func.count(Campaign.id))) == 0
    assert services.create_campaign(db.session, data(skus=["ROLL-1"], product_kinds=["roll"]), actor=None).id


def test_two_exclusive_campaigns_with_one_priority_may_not_overlap(db, make):
    make.user(Role.OWNER)
    first = services.create_campaign(db.session, data(combine="exclusive", priority=3), actor=None)
    with pytest.raises(Invalid) as refused:
        services.create_campaign(
            db.session, data(combine="exclusive", priority=3, name_en="Other"), actor=None
        )
    assert "Spring" in refused.value.message or "Весна" in refused.value.message
    services.create_campaign(db.session, data(combine="exclusive", priority=4), actor=None)
    later = data(
        combine="exclusive", priority=3, starts_at=first.ends_at, ends_at=first.ends_at + timedelta(days=5)
    )
    services.create_campaign(db.session, later, actor=None)


def test_an_exclusive_campaign_stopped_by_its_budget_still_holds_its_priority(db, make):
    make.user(Role.OWNER)
    first = running(db.session, combine="exclusive", priority=3, budget=10)
    first.status, first.stop_reason = "stopped", "budget"  # a rejection could make it run again
    with pytest.raises(Invalid) as refused:
        services.create_campaign(db.session, data(combine="exclusive", priority=3), actor=None)
    assert refused.value.details["field"] == "priority"
    first.stop_reason = "staff"  # stopped by staff it stays stopped: the priority is free
    services.create_campaign(db.session, data(combine="exclusive", priority=3), actor=None)


def test_a_running_campaigns_budget_cannot_drop_below_what_it_spent(db, make):
    make.user(Role.OWNER)
    campaign = running(db.session, budget=100)
    campaign.spent = 60
    with force_locale("en"), pytest.raises(Invalid) as refused:
        services.update_campaign(db.session, campaign, data(budget=50), actor=None, now=T0)
    assert "already spent 60 points" in refused.value.message
    services.update_campaign(db.session, campaign, data(budget=60), actor=None, now=T0)
    assert campaign.budget == 60


def test_a_campaign_whose_period_is_over_is_not_launched(db, make):
    make.user(Role.OWNER)
    campaign = services.create_campaign(db.session, data(), actor=None)
    with force_locale("en"), pytest.raises(Conflict) as refused:
        services.move(db.session, campaign, "launch", actor=None, now=campaign.ends_at + timedelta(hours=1))
    assert "period is over" in refused.value.message and campaign.status == "draft"


def test_moves_follow_the_states(db, make):
    make.user(Role.OWNER)
    campaign = running(db.session)
    services.move(db.session, campaign, "pause", actor=None, now=T0)
    with pytest.raises(Conflict):
        services.move(db.session, campaign, "pause", actor=None, now=T0)
    services.move(db.session, campaign, "resume", actor=None, now=T0)
    services.move(db.session, campaign, "stop", actor=None, now=T0)
    assert (campaign.status, campaign.stop_reason) == ("stopped", "staff")
    with pytest.raises(Conflict):
        services.update_campaign(db.session, campaign, data(), actor=None, now=T0)
    assert services.effective_status(running(db.session), T0 + timedelta(days=31)) == "ended"
    over = running(db.session, name_en="Over")
    with pytest.raises(Conflict):  # its period is over, though end-due has not run yet
        services.update_campaign(db.session, over, data(), actor=None, now=T0 + timedelta(days=31))


def test_participant_sees_what_is_left(db, make):
    shop = make.outlet()
    seller = make.user(Role.SELLER, outlet=shop)
    running(db.session, mechanic="every_nth", value=500, n=4, cap_person_period=1000)
    register(db.session, seller)
    (progress,) = services.campaigns_for(db.session, seller, now=T0)
    assert (progress.days_left, progress.packages_to_bonus, progress.cap_left) == (30, 3, 1000)


def test_first_n_card_says_what_is_left_of_each_product(db, make):
    shop = make.outlet()
    owner, seller = make.user(Role.OWNER, outlet=shop), make.user(Role.SELLER, outlet=shop)
    issuing.save_product(db.session, sku="ROLL-1", name="Roll 10 m", points="10")
    issuing.save_product(db.session, sku="ROLL-2", name="Roll 20 m", points="10")
    named = running(db.session, name_en="Named", mechanic="first_n", value=20, n=3, skus=["ROLL-1", "ROLL-2"])
    anything = running(db.session, name_en="Any", mechanic="first_n", value=20, n=2)
    register(db.session, owner, sku="ROLL-1")
    register(db.session, seller, sku="ROLL-1")  # the shop's count: both of its people
    by_campaign = {p.campaign.id: p for p in services.campaigns_for(db.session, seller, now=T0)}
    assert by_campaign[named.id].bonus_each == 3
    assert by_campaign[named.id].bonus_left == (
        services.ProductLeft("ROLL-1", "Roll 10 m", 1),
        services.ProductLeft("ROLL-2", "Roll 20 m", 3),
    )
    # Naming no product, it lists what the shop began: ROLL-1's two packages are used up.
    assert by_campaign[anything.id].bonus_left == (services.ProductLeft("ROLL-1", "Roll 10 m", 0),)


def test_welcome_and_referral_bonuses_are_paid_once(db, make):
    owner, newcomer = make.user(Role.OWNER), make.user(Role.SELLER)
    assert bonuses.welcome_points(db.session, person_id=newcomer.id) is None  # no rule yet
    bonuses.store_rules(
        db.session,
        welcome=bonuses.validate_rule(100),
        referral=bonuses.validate_rule(300, 3),
        actor_id=None,
    )
    assert bonuses.welcome_points(db.session, person_id=newcomer.id) == {"source": "welcome", "points": 100}
    assert bonuses.welcome_points(db.session, person_id=newcomer.id) is None
    shop = newcomer.outlet_id
    args = dict(outlet_id=shop, referrer_id=owner.id)
    assert bonuses.referral_points(db.session, accepted_registrations=2, **args) is None
    assert bonuses.referral_points(db.session, accepted_registrations=3, **args)["points"] == 300
    assert bonuses.referral_points(db.session, accepted_registrations=4, **args) is None
    with pytest.raises(Invalid):
        bonuses.validate_rule(-5)
