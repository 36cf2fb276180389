"""Fraud's periodic job: escalate review cases left unanswered too long."""

from __future__ import annotations

from typing import Any

from fraud.review import escalate_overdue
from partner_club.extensions import db
from partner_club.jobs.services import JobContext


def escalate_overdue_cases(ctx: JobContext) -> dict[str, Any]:
    cases = escalate_overdue(db.session)
    db.session.commit()
    return {"escalated": len(cases)}
