"""The daily points job: expire what is due, announce what is about to expire."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from partner_club.database import utcnow
from partner_club.extensions import db
from partner_club.jobs.services import JobContext
from partner_club.ledger.announce import announce_expiring
from partner_club.ledger.services import expire_due


def expire_points(ctx: JobContext, now: str | None = None) -> dict[str, Any]:
    """Runs daily (the periodic task `points.expire`; by hand: `flask points expire --queue`). Safe to run twice."""
    moment = parse_moment(now) if now else utcnow()
    ctx.progress(0, 2, "expiring")
    expired = expire_due(db.session, moment)
    # Commit before reporting: progress is written by a second connection,
    # which SQLite would keep waiting behind this one's open write.
    db.session.commit()
    ctx.progress(1, 2, "announcing")
    told = announce_expiring(db.session, moment)
    db.session.commit()
    ctx.progress(2, 2, "done")
    return {"expired": expired, "announced": told}


def parse_moment(text: str) -> datetime:
    """An ISO date or date-time; UTC unless it names its offset."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
