"""Report jobs: sending the due report e-mails.

`run_due` is what `flask reports send --due` and the job both run: each due
subscription is sent and committed on its own, so one failure (a mail
server hiccup) leaves the others sent and that one due again next run.
Scheduling is a cron line (see docs/reports.md), with or without Redis.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from partner_club.database import utcnow
from partner_club.extensions import db
from partner_club.jobs.services import JobContext
from reports.mailing import deliver
from reports.models import Subscription
from reports.subscriptions import due

log = logging.getLogger(__name__)


@dataclass
class SendResult:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def run_due(session: Session, *, now: datetime, config: Mapping[str, Any]) -> SendResult:
    result = SendResult()
    for subscription_id in [s.id for s in due(session, now)]:
        subscription = session.get(Subscription, subscription_id)
        label = f"{subscription.user.login} ({subscription.frequency})"
        try:
            delivered = deliver(session, subscription, now=now, config=config)
        except (OSError, smtplib.SMTPException):
            session.rollback()
            log.exception("report mail of subscription %s failed", subscription_id)
            result.failed.append(label)
            continue
        session.commit()
        (result.sent if delivered else result.skipped).append(label)
    return result


def send_due_reports(ctx: JobContext) -> dict[str, Any]:
    """The job: sends what is due now and reports the counts."""
    result = run_due(db.session, now=utcnow(), config=current_app.config)
    ctx.progress(
        len(result.sent),
        len(result.sent) + len(result.failed) + len(result.skipped),
        f"sent {len(result.sent)}, failed {len(result.failed)}",
    )
    return {"sent": len(result.sent), "failed": len(result.failed), "skipped": len(result.skipped)}
