"""Property tests: whatever overlaps, caps, budgets, time zones and moments, evaluation keeps
every promise and gives the same answer twice."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from partner_club.accounts.models import Role
from partner_club.campaigns import services
from partner_club.campaigns.evaluate import bump_version
from partner_club.campaigns.models import Campaign, CampaignAward
from tests.campaigns.helpers import T0, data, register

ZONES = ("Europe/Kaliningrad", "Europe/Moscow", "Asia/Yekaterinburg", "Asia/Vladivostok")
caps = st.none() | st.integers(0, 60)
campaign_spec = st.fixed_dictionaries(
    {
        "mechanic": st.sampled_from(["multiplier", "bonus", "every_nth", "once_at_n", "first_n"]),
        "value": st.sampled_from([1.5, 2.0, 3.0, 7.0, 10.0]),
        "n": st.integers(1, 4),
        "combine": st.sampled_from(["adds", "best", "exclusive"]),
        "priority": st.integers(0, 3),
        "budget": st.none() | st.integers(1, 120),
        "cap_person_day": caps,
        "cap_shop_period": caps,
        "time_zone": st.sampled_from(ZONES),
        "start_hours": st.integers(-30, 10),
        "length_hours": st.integers(1, 60),
    }
)
registration = st.tuples(
    st.integers(0, 2), st.integers(-40, 80), st.sampled_from(["A", "B"]), st.integers(0, 30)
)


def _launch(session, specs):
    made = []
    for spec in specs:
        spec = dict(spec)
        start = T0 + timedelta(hours=spec.pop("start_hours"))
        end = start + timedelta(hours=spec.pop("length_hours"))
        spec["priority"] = spec["priority"] + 10 * len(made)  # exclusive ones may not share a priority
        campaign = services.create_campaign(session, data(starts_at=start, ends_at=end, **spec), actor=None)
        services.move(session, campaign, "launch", actor=None, now=start)
        made.append(campaign)
    return made


def _run(session, people, campaigns, regs):
    index = {c.id: i for i, c in enumerate(campaigns)}
    answers = []
    for n, (who, hours, sku, base) in enumerate(regs):
        items = register(
            session, people[who], at=T0 + timedelta(hours=hours), base=base, sku=sku, registration_id=n + 1
        )
        answers.append([(index[i["campaign"]], i["points"]) for i in items])
    return answers


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(campaign_spec, min_size=1, max_size=3), regs=st.lists(registration, max_size=25))
def test_caps_budgets_periods_hold_and_answers_repeat(db, make, specs, regs):
    session = db.session
    shop = make.outlet()
    people = [make.user(Role.SELLER, outlet=shop), make.user(Role.OWNER, outlet=shop), make.user(Role.SELLER)]
    campaigns = _launch(session, specs)
    first = _run(session, people, campaigns, regs)
    for campaign in campaigns:
        session.refresh(campaign)
        awards = session.scalars(select(CampaignAward).where(CampaignAward.campaign_id == campaign.id)).all()
        given = sum(a.points for a in awards)
        if campaign.budget is not None:
            assert given == campaign.spent <= campaign.budget
        zone = ZoneInfo(campaign.time_zone)
        per_day, per_shop = defaultdict(int), defaultdict(int)
        for award in awards:
            assert campaign.starts_at <= award.created_at < campaign.ends_at
            per_day[award.person_id, award.created_at.astimezone(zone).date()] += award.points
            per_shop[award.outlet_id] += award.points
        if campaign.cap_person_day is not None:
            assert max(per_day.values(), default=0) <= campaign.cap_person_day
        if campaign.cap_shop_period is not None:
            assert max(per_shop.values(), default=0) <= campaign.cap_shop_period
    for items in first:
        if any(campaigns[i].combine == "exclusive" for i, _p in items):
            assert len(items) == 1
        assert sum(1 for i, _p in items if campaigns[i].combine == "best") <= 1
    # The same registrations in the same state get the same points.
    for campaign in campaigns:
        session.execute(CampaignAward.__table__.delete().where(CampaignAward.campaign_id == campaign.id))
        session.execute(
            Campaign.__table__.update()
            .where(Campaign.id == campaign.id)
            .values(spent=0, status="running", stop_reason=None, stopped_at=None)
        )
    bump_version(session)  # the direct UPDATEs above bypassed the services
    assert _run(session, people, campaigns, regs) == first
    session.rollback()
