"""`flask mailings send-due`: start the scheduled mailings whose time has come."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from partner_club.database import utcnow
from partner_club.extensions import db
from partner_club.mailings.jobs import mailings_send_due

mailings = AppGroup("mailings", help="Mailings to segments.")


@mailings.command("send-due")
def send_due() -> None:
    """Starts every scheduled mailing whose time has come."""
    started = mailings_send_due(db.session, utcnow())
    db.session.commit()
    click.echo(f"{started} mailing(s) started")
