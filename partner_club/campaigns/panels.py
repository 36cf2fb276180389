"""Parts of a campaign's staff page that other packages draw (the forecast and the uplift need
codes' registrations, which the core does not know): a small registry keyed by name, filled by
reports when the factory imports it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from markupsafe import Markup
from sqlalchemy.orm import Session

from partner_club.campaigns.models import Campaign

# name -> panel(session, campaign, *, now, weeks) -> Markup
PANELS: dict[str, Callable[..., Markup]] = {}


def render_panels(session: Session, campaign: Campaign, *, now: datetime, weeks: int) -> list[Markup]:
    return [panel(session, campaign, now=now, weeks=weeks) for _name, panel in sorted(PANELS.items())]
