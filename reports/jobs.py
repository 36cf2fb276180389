"""Report jobs: folding new registrations into the rollups, sending the due report e-mails.

Folding (`schedule_fold`) is debounced: after a registration commits, a fold
is queued unless one is already waiting. With Redis the flag is a key that
the job deletes as it starts (any process may set it; it expires after a
minute should a worker die with it); without Redis it is a flag of the
process, and the fold runs in a thread of its own. Either way a registration
that commits while a fold waits is folded by that fold, and one that commits
once it has started queues the next. Folds take no job row: they are too
small and too frequent to be watched one by one; `flask reports fold` runs
one by hand.

`run_due` is what `flask reports send --due` and the job both run: each due
subscription is sent and committed on its own, so one failure (a mail
server hiccup) leaves the others sent and that one due again next run.
Both run periodically without cron: see `partner_club/jobs/schedule.py`.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from partner_club.database import utcnow
from partner_club.extensions import db
from partner_club.jobs.services import JobContext, queue
from reports.mailing import deliver
from reports.models import Subscription
from reports.rollups import fold_all
from reports.subscriptions import due

log = logging.getLogger(__name__)
FOLD_PENDING_SECONDS = 60  # a fold queued by a worker that died is queued again after this
# In-process, a fold waits this long first, so that it takes the registrations of a busy second
# in one transaction rather than running after each (with rq the queue's own wait does this).
FOLD_DELAY_SECONDS = 1.0


def schedule_fold(app: Flask) -> None:
    """Makes sure a fold runs soon: queues one unless one is already waiting."""
    if app.config.get("REDIS_URL"):
        key = f"{app.config['RQ_QUEUE']}:reports.fold.pending"
        try:
            if queue(app).connection.set(key, 1, nx=True, ex=FOLD_PENDING_SECONDS):
                queue(app).enqueue(fold_job, key, result_ttl=0)
        except (RedisError, OSError):
            # The registration stands; the map adds unfolded registrations at read time, and the
            # first registration after Redis returns (or `flask reports fold`) folds them all.
            log.warning("Redis unreachable: the rollups' fold waits for the next registration")
        return
    with _IN_PROCESS.lock:
        if _IN_PROCESS.pending:
            return
        _IN_PROCESS.pending = True
    sync = app.config.get("JOBS_INPROCESS") == "sync"
    worker = threading.Thread(
        target=_fold_in_process, args=(app, 0.0 if sync else FOLD_DELAY_SECONDS), daemon=True
    )
    worker.start()
    if sync:
        worker.join()


class _InProcess:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending = False


_IN_PROCESS = _InProcess()


def fold_job(pending_key: str) -> int:
    """The rq job (run inside the worker's app context): folds what is there; the number folded."""
    queue(current_app).connection.delete(pending_key)  # from now on a new registration queues the next
    return _fold(db.session)


def _fold_in_process(app: Flask, delay: float) -> None:
    time.sleep(delay)
    with app.app_context():
        with _IN_PROCESS.lock:
            _IN_PROCESS.pending = False
        try:
            _fold(db.session)
        except Exception:  # the next registration's fold, or `reports fold`, takes them
            log.exception("folding registrations into the rollups failed")
        finally:
            db.session.remove()


def _fold(session: Session) -> int:
    folded = fold_all(session)
    session.commit()
    return folded


@dataclass
class SendResult:
    """Subscription ids, by what became of them (ids, not logins: a login is a phone or e-mail)."""

    sent: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)  # id -> why
    failed: list[int] = field(default_factory=list)


def run_due(session: Session, *, now: datetime, config: Mapping[str, Any]) -> SendResult:
    result = SendResult()
    for subscription_id in [s.id for s in due(session, now)]:
        subscription = session.get_one(Subscription, subscription_id)
        try:
            skipped = deliver(session, subscription, now=now, config=config)
        except (OSError, smtplib.SMTPException) as error:
            session.rollback()
            # The type only: a refusal's text (and so a traceback) carries the address.
            log.warning("report mail of subscription %s failed: %s", subscription_id, type(error).__name__)
            result.failed.append(subscription_id)
            continue
        session.commit()
        if skipped is None:
            result.sent.append(subscription_id)
        else:
            result.skipped[subscription_id] = skipped
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


def fold_registrations(ctx: JobContext) -> dict[str, Any]:
    """The periodic fold: whatever the debounced folds left (e.g. Redis was down)."""
    return {"folded": _fold(db.session)}
