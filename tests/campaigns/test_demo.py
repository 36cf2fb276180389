"""The demo world has running campaigns, a draft and the bonus rules."""

from __future__ import annotations

from sqlalchemy import select

from partner_club.campaigns import bonuses
from partner_club.campaigns import demo as campaigns_demo
from partner_club.campaigns.models import Campaign
from partner_club.demo.seed import seed_demo


def test_demo_campaigns(db):
    seed_demo(db.session, (campaigns_demo.seed,), shops=30)
    statuses = sorted(db.session.scalars(select(Campaign.status)))
    assert statuses == ["draft", "running", "running", "running", "running"]
    assert bonuses.welcome_rule(db.session).points == 100
