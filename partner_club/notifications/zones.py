"""Whose clock a message waits for: a person's time zone, and the quiet hours in it.

The club spans eleven zones, Kaliningrad to Kamchatka. A person's own
`time_zone` wins; else the zone of their shop's (or territory's, or own)
region (`regions.zones`); else the club's DEFAULT_TIMEZONE.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from partner_club.accounts.models import User
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region, Territory
from partner_club.regions.zones import region_zone, zone_info

DAY_STARTS = time(8, 0)
DAY_ENDS = time(21, 0)


def person_zone(session: Session, user: User, config: Mapping[str, Any]) -> ZoneInfo:
    own = zone_info(user.time_zone)
    if own is not None:
        return own
    region_id = user.region_id
    if user.outlet_id is not None:
        outlet = session.get(Outlet, user.outlet_id)
        region_id = outlet.region_id if outlet else region_id
    elif user.territory_id is not None:
        territory = session.get(Territory, user.territory_id)
        region_id = territory.region_id if territory else region_id
    region = session.get(Region, region_id) if region_id is not None else None
    from_region = zone_info(region_zone(region.iso_code)) if region is not None else None
    return from_region or zone_info(config.get("BABEL_DEFAULT_TIMEZONE")) or ZoneInfo("Europe/Moscow")


def quiet_until(moment: datetime, zone: ZoneInfo) -> datetime | None:
    """When the night ends, if `moment` falls in it (21:00-08:00 local); None in the day."""
    local = moment.astimezone(zone)
    if DAY_STARTS <= local.time() < DAY_ENDS:
        return None
    day = local.date() + timedelta(days=1) if local.time() >= DAY_ENDS else local.date()
    return datetime.combine(day, DAY_STARTS, tzinfo=zone).astimezone(UTC)
