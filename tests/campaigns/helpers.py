"""Campaign builders and a registration stand-in for the evaluation tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from partner_club.campaigns import services
from partner_club.campaigns.evaluate import campaign_points

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 12:00 in Moscow
_registration_ids = itertools.count(1)


def data(**kw: Any) -> services.CampaignData:
    values = dict(
        name_ru="Весна",
        name_en="Spring",
        starts_at=T0 - timedelta(days=1),
        ends_at=T0 + timedelta(days=30),
        mechanic="multiplier",
        value=2.0,
    )
    values.update(kw)
    return services.CampaignData(**values)


def running(session, *, now: datetime = T0, **kw: Any):
    campaign = services.create_campaign(session, data(**kw), actor=None)
    return services.move(session, campaign, "launch", actor=None, now=now - timedelta(days=2))


def register(
    session, person, *, at: datetime = T0, base: int = 10, sku: str = "ROLL-1", registration_id=None
):
    outlet = person.outlet
    return campaign_points(
        session,
        base_points=base,
        sku=sku,
        product_kind="roll",
        package="roll",
        region_iso=outlet.region.iso_code if outlet else None,
        territory_id=outlet.territory_id if outlet else None,
        shop_id=outlet.id if outlet else None,
        shop_kind=outlet.kind if outlet else None,
        person_id=person.id,
        role=person.role,
        at=at,
        registration_id=registration_id or next(_registration_ids),
    )


def total(items) -> int:
    return sum(item["points"] for item in items)
