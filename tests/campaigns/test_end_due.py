"""A campaign's stored status becomes `ended` when its period is over; a spent budget stops it."""

from __future__ import annotations

from datetime import timedelta

from partner_club.accounts.models import Role
from partner_club.campaigns.evaluate import running_rules
from partner_club.campaigns.models import Campaign, Status
from partner_club.campaigns.services import end_due_campaigns, move
from tests.campaigns.helpers import T0, register, running


def test_campaigns_past_their_end_are_ended_once(db, make):
    make.user(Role.OWNER)
    over = running(db.session)
    paused = move(db.session, running(db.session, name_en="Paused"), "pause", actor=None, now=T0)
    still = running(db.session, ends_at=T0 + timedelta(days=60))
    end = T0 + timedelta(days=30)
    assert end_due_campaigns(db.session, end - timedelta(seconds=1)) == []
    assert end_due_campaigns(db.session, end) == [over.id, paused.id]
    assert end_due_campaigns(db.session, end) == []
    assert (over.status, paused.status, still.status) == ("ended", "ended", "running")
    assert [rule.id for rule in running_rules(db.session)] == [still.id]


def test_the_cli_ends_due_campaigns(app, db, make):
    make.user(Role.OWNER)
    campaign = running(
        db.session,
        now=T0 - timedelta(days=20),
        starts_at=T0 - timedelta(days=40),
        ends_at=T0 - timedelta(days=10),
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["campaigns", "end-due"])
    assert result.exit_code == 0 and f"1 campaign(s) ended: {campaign.id}" in result.output
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).status == Status.ENDED.value


def test_a_spent_budget_stops_the_campaign_and_its_page_says_so(db, make, client, login):
    shop = make.outlet()
    seller = make.user(Role.SELLER, outlet=shop)
    campaign = running(db.session, mechanic="bonus", value=10, budget=15)
    assert sum(i["points"] for i in register(db.session, seller)) == 10
    assert sum(i["points"] for i in register(db.session, seller)) == 5  # what was left
    db.session.refresh(campaign)
    assert (campaign.status, campaign.stop_reason) == ("stopped", "budget")
    assert register(db.session, seller) == []
    db.session.commit()
    login(make.user(Role.ADMIN, locale="en"))
    page = client.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    assert "status-stopped" in page and "stopped by itself: the budget ran out" in page
