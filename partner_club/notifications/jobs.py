"""Delivery jobs: a notification's outside channels, and the deliveries whose time has come.

Each step commits on its own: the claim before the send (so two workers never
send the same delivery), the outcome after it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

from partner_club.database import utcnow
from partner_club.extensions import db
from partner_club.jobs.services import JobContext
from partner_club.notifications.channels import CHANNELS, Outcome
from partner_club.notifications.delivery import due_notifications, next_step, record

log = logging.getLogger(__name__)


def deliver_notification(ctx: JobContext | None, notification_id: int) -> dict[str, Any]:
    """Sends one notification by the person's channels, falling back, until sent or waiting."""
    config = current_app.config
    tries: list[str] = []
    while True:
        outgoing = next_step(db.session, notification_id, now=utcnow(), config=config)
        db.session.commit()
        if outgoing is None:
            return {"notification": notification_id, "tried": tries}
        try:
            outcome = CHANNELS[outgoing.channel].deliver(config, outgoing)
        except Exception as error:  # a channel's bug is recorded and retried like a provider's trouble
            log.exception("channel %s failed on delivery %s", outgoing.channel, outgoing.delivery_id)
            outcome = Outcome("retry", reason=f"unexpected error: {type(error).__name__}")
        row = record(db.session, outgoing.delivery_id, outcome, now=utcnow(), config=config)
        status = row.status
        db.session.commit()
        tries.append(f"{outgoing.channel}:{status}")
        if status == "waiting":  # the back-off runs out in `deliver_due`, not in this job
            return {"notification": notification_id, "tried": tries}


def deliver_due(ctx: JobContext | None, limit: int = 1000) -> dict[str, int]:
    """Deliveries that waited for the morning or a retry, and claims a dead worker left."""
    ids = due_notifications(db.session, now=utcnow(), limit=limit)
    db.session.rollback()
    for done, notification_id in enumerate(ids, 1):
        deliver_notification(None, notification_id)
        if ctx is not None and done % 50 == 0:
            ctx.progress(done, len(ids))
    return {"notifications": len(ids)}
