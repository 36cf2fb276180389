"""Mail that must not keep a request waiting: the password reset link."""

from __future__ import annotations

from typing import Any

from flask import current_app

from partner_club.accounts import passwords
from partner_club.emails import render_email
from partner_club.extensions import db
from partner_club.jobs.services import JobContext
from partner_club.notifications.services import Message, send_now


def send_password_reset(ctx: JobContext, reset_id: int) -> dict[str, Any]:
    issued = passwords.issue_token(db.session, reset_id)
    if issued is None:
        return {"sent": False}
    user, token = issued
    # The token must be stored before anyone can follow the link.
    db.session.commit()
    link = f"{current_app.config['PUBLIC_URL']}/password/reset/{token}"
    subject, text, html = render_email(
        "password_reset",
        locale=user.locale,
        name=user.display_name,
        link=link,
        minutes=int(passwords.RESET_VALID_FOR.total_seconds() // 60),
    )
    send_now(Message(to=passwords.mail_address(user) or "", subject=subject, text=text, html=html))
    return {"sent": True}
