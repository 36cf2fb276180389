"""The mailing's job: batches at a set rate, with progress, resumable after a killed worker."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from partner_club.accounts.models import User
from partner_club.database import utcnow
from partner_club.extensions import db
from partner_club.jobs.models import Job
from partner_club.jobs.services import JobContext, enqueue
from partner_club.mailings import services
from partner_club.mailings.models import Mailing, MailingStatus
from partner_club.notifications.jobs import deliver_notification

MAX_BATCH = 500


def start_sending(session: Session, mailing: Mailing, *, actor: User | None, now: datetime) -> Job:
    """Marks the mailing sending and queues its job; the job starts after the commit."""
    services.mark_sending(session, mailing, actor=actor, now=now)
    job = enqueue(
        session,
        send_mailing,
        title=f"Mailing {mailing.id}",
        created_by_id=actor.id if actor is not None else mailing.created_by_id,
        mailing_id=mailing.id,
    )
    mailing.job_id = job.id
    session.flush()
    return job


def mailings_send_due(session: Session, now: datetime) -> int:
    """Starts every scheduled mailing whose time has come; the number started (for the scheduler)."""
    due = services.due_mailings(session, now)
    for mailing in due:
        start_sending(session, mailing, actor=None, now=now)
    return len(due)


def send_due(ctx: JobContext) -> dict[str, Any]:
    """The periodic job: starts the scheduled mailings whose time has come."""
    return {"started": mailings_send_due(db.session, utcnow())}


def send_mailing(ctx: JobContext, *, mailing_id: int) -> dict[str, Any]:
    """Writes a batch of one second's worth (one transaction), then delivers it at the set rate.

    A later attempt (after a killed worker) first delivers what the dead one had committed but
    not begun to deliver, then carries on after the last committed batch: the people already
    handled have their `MailingRecipient` row, so nobody gets the mailing twice.
    """
    session = db.session
    mailing = session.get_one(Mailing, mailing_id)
    if mailing.status != MailingStatus.SENDING.value:
        return {"skipped": mailing.status}
    rate = services.rate_per_second(session)
    batch = max(1, min(MAX_BATCH, rate))
    left_over = services.undelivered(session, mailing) if ctx.job_id and _attempt(ctx) > 1 else []
    where = services.send_filter(session, mailing, utcnow())
    done = services.handled_count(session, mailing_id)
    total = max(mailing.audience, done)
    session.commit()
    ctx.progress(done, total)
    _deliver(left_over, rate)
    while True:
        mailing = session.get_one(Mailing, mailing_id)
        handled, to_deliver = services.send_batch(session, mailing, where, now=utcnow(), limit=batch)
        session.commit()
        if not handled:
            break
        done += handled
        total = max(total, done)
        ctx.progress(done, total)
        _deliver(to_deliver, rate)
    mailing = session.get_one(Mailing, mailing_id)
    services.finish(session, mailing, utcnow())
    session.commit()
    return {"handled": done}


def _attempt(ctx: JobContext) -> int:
    job = db.session.get(Job, ctx.job_id)
    return job.attempts if job is not None else 1


def _deliver(notification_ids: list[int], rate: int) -> None:
    """Each notification by the person's channels, no faster than `rate` a second."""
    began = time.monotonic()
    for sent, notification_id in enumerate(notification_ids, 1):
        deliver_notification(None, notification_id)
        ahead = sent / rate - (time.monotonic() - began)
        if ahead > 0:
            time.sleep(ahead)
