"""`flask notifications deliver`: sends what waited for the morning or a retry; `test` tries the channels."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from partner_club.accounts.services import find_by_login
from partner_club.extensions import db
from partner_club.notifications.jobs import deliver_due, deliver_notification
from partner_club.notifications.models import Delivery
from partner_club.notifications.services import notify


@click.group("notifications")
def notifications() -> None:
    """Messages to people."""


@notifications.command("deliver")
@click.option("--limit", default=1000, show_default=True, help="At most this many messages in one run.")
@with_appcontext
def deliver(limit: int) -> None:
    """Deliver the messages whose quiet hours ended or whose retry is due (run every few minutes)."""
    click.echo(json.dumps(deliver_due(None, limit=limit)))


@notifications.command("test")
@click.argument("login")
@with_appcontext
def send_test(login: str) -> None:
    """Send a test message to a person now and print what each channel did."""
    user = find_by_login(db.session, login)
    if user is None:
        raise click.ClickException(f"No account with the login {login!r}.")
    note = notify(db.session, user.id, "club.test", link="/notifications/", deliver=False)
    db.session.commit()
    deliver_notification(None, note.id)
    for row in db.session.scalars(
        select(Delivery).where(Delivery.notification_id == note.id).order_by(Delivery.id)
    ):
        details = " ".join(part for part in (row.provider_id, row.reason) if part)
        click.echo(f"{row.channel}: {row.status} (attempts {row.attempts}) {details}".rstrip())
