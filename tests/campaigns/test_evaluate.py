"""Campaign evaluation: mechanics, period edges, time zones, caps, budgets, combining."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from codes import issuing
from partner_club.accounts.models import Role
from partner_club.campaigns import services
from partner_club.campaigns.evaluate import release_awards
from partner_club.campaigns.models import CampaignAward, Status
from tests.campaigns.helpers import T0, register, running, total


def test_multiplier_gives_its_share_over_base_and_records_the_award(db, make):
    seller = make.user(Role.SELLER)
    campaign = running(db.session, value=2.0)
    items = register(db.session, seller, base=10)
    assert items == [
        {
            "source": "campaign",
            "campaign": campaign.id,
            "name": "Весна",
            "mechanic": "multiplier",
            "value": 2.0,
            "points": 10,
        }
    ]
    award = db.session.scalars(select(CampaignAward)).one()
    assert (award.campaign_id, award.person_id, award.points) == (campaign.id, seller.id, 10)


def test_period_starts_inclusive_and_ends_exclusive(db, make):
    seller = make.user(Role.SELLER)
    campaign = running(db.session, mechanic="bonus", value=5, starts_at=T0, ends_at=T0 + timedelta(hours=1))
    assert total(register(db.session, seller, at=T0 - timedelta(microseconds=1))) == 0
    assert total(register(db.session, seller, at=T0)) == 5
    assert total(register(db.session, seller, at=campaign.ends_at - timedelta(microseconds=1))) == 5
    assert total(register(db.session, seller, at=campaign.ends_at)) == 0


def test_audience_and_products_filter(db, make):
    region = make.region("RU-SAM")
    inside = make.user(Role.SELLER, outlet=make.outlet(region=region))
    outside = make.user(Role.SELLER)
    issuing.save_product(db.session, sku="ROLL-1", name="Roll", points="10")
    running(db.session, regions=["RU-SAM"], skus=["ROLL-1"], mechanic="bonus", value=7)
    assert total(register(db.session, inside)) == 7
    assert total(register(db.session, inside, sku="OTHER")) == 0
    assert total(register(db.session, outside)) == 0


def test_a_campaign_launched_for_a_product_applies_to_its_next_registration(db, make):
    # The campaigns covering a product are worked out once per process; a launch starts over.
    seller = make.user(Role.SELLER)
    issuing.save_product(db.session, sku="ROLL-1", name="Roll", points="10")
    issuing.save_product(db.session, sku="GLUE-1", name="Glue", points="10")
    running(db.session, skus=["ROLL-1"], mechanic="bonus", value=7)
    running(db.session, skus=["GLUE-1"], mechanic="bonus", value=3)
    assert total(register(db.session, seller, sku="ROLL-1")) == 7
    assert total(register(db.session, seller, sku="GLUE-1")) == 3
    running(db.session, skus=["ROLL-1"], mechanic="bonus", value=2)
    assert total(register(db.session, seller, sku="ROLL-1")) == 9
    assert total(register(db.session, seller, sku="GLUE-1")) == 3


def test_every_nth_and_once_at_n_count_the_shops_packages(db, make):
    shop = make.outlet()
    first, second = make.user(Role.OWNER, outlet=shop), make.user(Role.SELLER, outlet=shop)
    running(db.session, mechanic="every_nth", value=500, n=3, combine="adds")
    got = [total(register(db.session, person)) for person in (first, second, first, second, first, second)]
    assert got == [0, 0, 500, 0, 0, 500]


def test_first_n_per_product(db, make):
    seller = make.user(Role.SELLER)
    running(db.session, mechanic="first_n", value=20, n=2)
    got = [total(register(db.session, seller, sku=sku)) for sku in ("A", "A", "A", "B", "B", "B")]
    assert got == [20, 20, 0, 20, 20, 0]


def test_day_cap_follows_the_campaigns_time_zone(db, make):
    seller = make.user(Role.SELLER)
    running(db.session, mechanic="bonus", value=10, cap_person_day=15, time_zone="Asia/Vladivostok")
    # 13:59 UTC is 23:59 in Vladivostok; 14:00 UTC the next local day.
    evening = datetime(2026, 3, 2, 13, 59, tzinfo=UTC)
    assert total(register(db.session, seller, at=evening - timedelta(hours=1))) == 10
    assert total(register(db.session, seller, at=evening)) == 5
    assert total(register(db.session, seller, at=evening + timedelta(seconds=30))) == 0
    assert total(register(db.session, seller, at=evening + timedelta(minutes=1))) == 10


def test_budget_stops_the_campaign_and_a_rejection_gives_it_back(db, make):
    seller = make.user(Role.SELLER)
    campaign = running(db.session, mechanic="bonus", value=10, budget=25)
    assert [total(register(db.session, seller, registration_id=n)) for n in (1, 2, 3, 4)] == [10, 10, 5, 0]
    db.session.refresh(campaign)
    assert (campaign.spent, campaign.status, campaign.stop_reason) == (25, Status.STOPPED.value, "budget")
    assert release_awards(db.session, 2) == 10
    db.session.refresh(campaign)
    assert (campaign.spent, campaign.status) == (15, Status.RUNNING.value)
    assert total(register(db.session, seller, registration_id=5)) == 10
    assert db.session.scalar(select(func.count()).where(CampaignAward.registration_id == 2)) == 0


def test_exclusive_wins_alone_and_best_picks_the_largest(db, make):
    seller = make.user(Role.SELLER)
    adds = running(db.session, mechanic="bonus", value=3, combine="adds")
    running(db.session, mechanic="bonus", value=4, combine="best")
    best = running(db.session, mechanic="bonus", value=6, combine="best")
    items = register(db.session, seller)
    assert sorted((i["campaign"], i["points"]) for i in items) == [(adds.id, 3), (best.id, 6)]
    low = running(db.session, mechanic="bonus", value=1, combine="exclusive", priority=1)
    high = running(db.session, mechanic="bonus", value=2, combine="exclusive", priority=5)
    assert [(i["campaign"], i["points"]) for i in register(db.session, seller)] == [(high.id, 2)]
    services.move(db.session, high, "pause", actor=None, now=T0)
    assert [(i["campaign"], i["points"]) for i in register(db.session, seller)] == [(low.id, 1)]


def test_control_group_is_stable_and_left_out(db, make):
    sellers = [make.user(Role.SELLER) for _ in range(40)]
    campaign = running(db.session, mechanic="bonus", value=1, control_share=0.5)
    first = [total(register(db.session, s)) for s in sellers]
    second = [total(register(db.session, s)) for s in sellers]
    assert first == second
    assert 5 < first.count(0) < 35
    assert campaign.control_share == 0.5


def test_a_change_reaches_evaluation_at_once_and_keeps_earlier_awards(db, make):
    seller = make.user(Role.SELLER)
    campaign = running(db.session, mechanic="bonus", value=5)
    assert total(register(db.session, seller)) == 5
    changed = services.CampaignData.of(campaign)
    changed.value = 8
    services.update_campaign(db.session, campaign, changed, actor=None, now=T0)
    assert campaign.changed_at == T0
    assert total(register(db.session, seller)) == 8
    assert sorted(db.session.scalars(select(CampaignAward.points))) == [5, 8]


def test_nothing_applies_without_running_campaigns(db, make):
    seller = make.user(Role.SELLER)
    services.create_campaign(db.session, services.CampaignData(**_draft()), actor=None)
    assert register(db.session, seller) == []


def _draft():
    return dict(
        name_ru="Черновик",
        name_en="Draft",
        starts_at=T0 - timedelta(days=1),
        ends_at=T0 + timedelta(days=1),
        mechanic="bonus",
        value=5,
    )


def test_rejecting_a_registration_of_a_campaign_without_a_budget(db, make):
    seller = make.user(Role.SELLER)
    campaign = running(db.session, mechanic="multiplier", value=2.0)
    assert total(register(db.session, seller, registration_id=1)) == 10
    assert release_awards(db.session, 1) == 10
    db.session.flush()
    db.session.refresh(campaign)
    assert (campaign.spent, campaign.status) == (0, Status.RUNNING.value)


@pytest.mark.parametrize(
    ("mechanic", "rejected", "expected"),
    [
        # 3 packages pay at the 3rd; the 1st is rejected: 2 stand, the bonus is not paid again.
        ("once_at_n", 1, [0, 0, 0, 0]),
        # The paid one is rejected: the next package that brings the count to 3 pays.
        ("once_at_n", 3, [500, 0, 0, 0]),
        # Every 3rd: after the rejection the second bonus comes with the 6th standing package.
        ("every_nth", 1, [0, 0, 0, 500]),
        ("every_nth", 3, [500, 0, 0, 500]),
    ],
)
def test_a_rejection_gives_back_the_count_but_never_pays_a_bonus_twice(
    db, make, mechanic, rejected, expected
):
    seller = make.user(Role.SELLER)
    running(db.session, mechanic=mechanic, value=500, n=3)
    assert [total(register(db.session, seller, registration_id=n)) for n in (1, 2, 3)] == [0, 0, 500]
    release_awards(db.session, rejected)
    assert [total(register(db.session, seller, registration_id=n)) for n in (4, 5, 6, 7)] == expected
