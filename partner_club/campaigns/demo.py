"""The demo world's campaigns: a few running ones, a draft to forecast, and the bonus rules."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from partner_club.campaigns import bonuses, services
from partner_club.demo.world import DemoWorld


def seed(session: Session, world: DemoWorld) -> None:
    now = world.now
    regions = [region.iso_code for region in world.regions[:3]]
    plans = [
        dict(
            name_ru="Весна в регионах: баллы x2",
            name_en="Spring in the regions: points x2",
            description_ru="Двойные баллы за каждую упаковку в трёх регионах.",
            description_en="Double points on every package in three regions.",
            mechanic="multiplier",
            value=2.0,
            regions=regions,
            budget=200_000,
            cap_person_week=2_000,
            combine="best",
        ),
        dict(
            name_ru="Каждая десятая упаковка +500",
            name_en="Every tenth package +500",
            description_ru="500 баллов за каждую десятую упаковку магазина.",
            description_en="500 points at every tenth package of a shop.",
            mechanic="every_nth",
            value=500,
            n=10,
            cap_shop_period=5_000,
        ),
        dict(
            name_ru="Бонус +5 за упаковку",
            name_en="Bonus +5 a package",
            mechanic="bonus",
            value=5,
            combine="best",
            control_share=0.2,
        ),
        dict(
            name_ru="Первые 3 упаковки каждого товара +50",
            name_en="First 3 packages of each product +50",
            description_ru="50 баллов за каждую из первых трёх упаковок каждого товара магазина.",
            description_en="50 points for each of a shop's first three packages of every product.",
            mechanic="first_n",
            value=50,
            n=3,
        ),
    ]
    for plan in plans:
        data = services.CampaignData(
            starts_at=now - timedelta(days=7), ends_at=now + timedelta(days=30), **plan
        )
        campaign = services.create_campaign(session, data, actor=world.admin)
        services.move(session, campaign, "launch", actor=world.admin, now=now - timedelta(days=7))
    draft = services.CampaignData(
        name_ru="Летний множитель x1,5 (черновик)",
        name_en="Summer multiplier x1.5 (draft)",
        starts_at=now + timedelta(days=40),
        ends_at=now + timedelta(days=70),
        mechanic="multiplier",
        value=1.5,
        budget=500_000,
        control_share=0.1,
    )
    services.create_campaign(session, draft, actor=world.admin)
    bonuses.store_rules(
        session,
        welcome=bonuses.BonusRule(points=100),
        referral=bonuses.BonusRule(points=300, after=5),
        actor_id=world.admin.id,
    )
    world.notes.append(
        "Campaigns: 4 running, 1 draft at /admin/campaigns; welcome 100, referral 300 after 5."
    )
