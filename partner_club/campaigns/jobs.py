"""The campaigns' periodic job (registered in `partner_club.jobs.schedule`)."""

from __future__ import annotations

from typing import Any

from partner_club.campaigns.services import end_due_campaigns
from partner_club.database import utcnow
from partner_club.extensions import db
from partner_club.jobs.services import JobContext


def end_due(ctx: JobContext) -> dict[str, Any]:
    """Campaigns whose period is over become `ended`; the runner commits."""
    return {"ended": end_due_campaigns(db.session, utcnow())}
