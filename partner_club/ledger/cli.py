"""`flask points check | expire`: reconciliation and the daily expiry."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from partner_club.database import utcnow
from partner_club.extensions import db
from partner_club.jobs.services import enqueue
from partner_club.ledger.announce import announce_expiring
from partner_club.ledger.jobs import expire_points, parse_moment
from partner_club.ledger.models import Account, LedgerEntry
from partner_club.ledger.reconcile import disagreements
from partner_club.ledger.services import expire_due

points = AppGroup("points", help="Points ledger.")


@points.command("check")
def check() -> None:
    """Prove that every balance equals the sum of its entries; exit 1 if any does not."""
    found = disagreements(db.session)
    accounts = db.session.scalar(select(func.count()).select_from(Account))
    entries = db.session.scalar(select(func.count()).select_from(LedgerEntry))
    if not found:
        click.echo(
            f"OK: {accounts} accounts, {entries} entries; every balance equals the sum of its entries."
        )
        return
    for item in found:
        what = "points left in lots" if item.bucket == "lots" else f"sum of {item.bucket} entries"
        click.echo(f"account {item.account_id}: {item.bucket} balance {item.balance}, {what} {item.entries}")
    raise click.ClickException(f"{len({i.account_id for i in found})} of {accounts} accounts disagree.")


@points.command("expire")
@click.option("--now", "now_text", help="Pretend it is this ISO date/time (UTC), e.g. 2027-01-01.")
@click.option("--queue", "use_queue", is_flag=True, help="Run as a background job (rq, or in-process).")
def expire(now_text: str | None, use_queue: bool) -> None:
    """Expire the points that are due and announce those about to expire. Safe to run twice."""
    if use_queue:
        job = enqueue(db.session, expire_points, title="Expire points", now=now_text)
        db.session.commit()
        click.echo(f"Queued job {job.id}.")
        return
    moment = parse_moment(now_text) if now_text else utcnow()
    expired = expire_due(db.session, moment)
    told = announce_expiring(db.session, moment)
    db.session.commit()
    click.echo(f"Expired {expired} points; told {told} people about points expiring soon.")
