"""`flask reports ...`: rebuild the rollups, send the due report e-mails."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from partner_club.database import utcnow
from partner_club.extensions import db
from reports.jobs import run_due
from reports.rollups import fold_all, rebuild, registration_daily_counts

reports = AppGroup("reports", help="KPI reports.")


@reports.command("rebuild")
@click.option("--check", is_flag=True, help="Only compare; change nothing.")
def rebuild_command(check: bool) -> None:
    """Recompute the rollups from the registrations and prove they matched.

    Exits with status 1 when the stored rollups differed (after fixing them,
    unless --check).
    """
    report = rebuild(db.session, registration_daily_counts(db.session), write=not check)
    if check:
        db.session.rollback()
    else:
        db.session.commit()
    click.echo(f"{report.registrations} registrations in {report.rows} day/shop/product rows.")
    if report.matched:
        click.echo("Rollups matched the registrations.")
        return
    click.echo(f"Rollups differed from the registrations ({'not changed' if check else 'now fixed'}):")
    for line in report.differences:
        click.echo(f"  {line}")
    raise SystemExit(1)


@reports.command("fold")
def fold_command() -> None:
    """Fold the registrations not yet counted into the rollups (a job does this within a
    minute of each registration; this runs it by hand)."""
    folded = fold_all(db.session)
    db.session.commit()
    click.echo(f"{folded} registrations folded into the rollups.")


@reports.command("send")
@click.option("--due", "only_due", is_flag=True, required=True, help="Send the reports that are due now.")
def send_command(only_due: bool) -> None:
    """Send the scheduled report e-mails that are due (it also runs hourly by itself)."""
    result = run_due(db.session, now=utcnow(), config=current_app.config)
    click.echo(f"sent {len(result.sent)}, skipped {len(result.skipped)}, failed {len(result.failed)}")
    for subscription_id, why in result.skipped.items():
        click.echo(f"  skipped: subscription {subscription_id}: {why}")
    for subscription_id in result.failed:
        click.echo(f"  failed: subscription {subscription_id}", err=True)
    if result.failed:
        raise SystemExit(1)
