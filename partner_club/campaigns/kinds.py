"""The message a campaign raises when launched: to the people of its audience.

A small audience is told in the launching transaction; a large one by a job
(after the launch commits), in batches that each commit, skipping the people
already told, so a job that dies and runs again tells nobody twice. Shops
in the control group are not told: they must not know of the campaign.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from partner_club.accounts.models import Role, User, UserStatus
from partner_club.campaigns.evaluate import in_control_group
from partner_club.campaigns.models import Campaign
from partner_club.campaigns.services import CampaignData, audience_shops
from partner_club.extensions import db
from partner_club.jobs.services import JobContext, enqueue
from partner_club.notifications.models import Notification
from partner_club.notifications.services import Kind, notify, register_kind

LAUNCHED = "campaign.launched"
INLINE_LIMIT = 200  # people told in the request; more go to a job
BATCH = 500


def _launched_text(params: Mapping[str, Any], locale: str) -> tuple[str, str]:
    name = params.get("name_en") if str(locale).startswith("en") else params.get("name_ru")
    return _("New campaign: %(name)s", name=name or ""), _(
        "Register codes while it runs to earn more points."
    )


register_kind(Kind(name=LAUNCHED, group="campaigns", render=_launched_text))


def _link(campaign: Campaign) -> str:
    return f"/campaigns#campaign-{campaign.id}"


def _audience(session: Session, campaign: Campaign) -> list[int]:
    """The people to tell, not yet told, outside the control group."""
    data = CampaignData.of(campaign)
    shops = audience_shops(data).subquery()
    told = select(Notification.user_id).where(
        Notification.kind == LAUNCHED, Notification.link == _link(campaign)
    )
    rows = session.execute(
        select(User.id, User.outlet_id)
        .where(
            User.outlet_id.in_(select(shops.c.id)),
            User.role.in_(data.roles or [Role.OWNER.value, Role.SELLER.value]),
            User.status == UserStatus.ACTIVE.value,
            User.id.not_in(told),
        )
        .order_by(User.id)
    ).all()
    return [
        uid for uid, shop in rows if not in_control_group(campaign.control_seed, campaign.control_share, shop)
    ]


def _tell(session: Session, campaign: Campaign, people: list[int]) -> None:
    params = {"campaign_id": campaign.id, "name_ru": campaign.name_ru, "name_en": campaign.name_en}
    for user_id in people:
        notify(session, user_id, LAUNCHED, params, link=_link(campaign))


def announce_launch(session: Session, campaign: Campaign) -> None:
    people = _audience(session, campaign)
    if len(people) <= INLINE_LIMIT:
        _tell(session, campaign, people)
    else:
        enqueue(
            session, announce_campaign, title=f"campaign {campaign.id} announcement", campaign_id=campaign.id
        )


def announce_campaign(ctx: JobContext, campaign_id: int) -> dict[str, Any]:
    """The job: tells the audience in committed batches."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        return {"told": 0}
    people = _audience(db.session, campaign)
    for start in range(0, len(people), BATCH):
        _tell(db.session, campaign, people[start : start + BATCH])
        db.session.commit()
        ctx.progress(min(start + BATCH, len(people)), len(people))
    return {"told": len(people)}
