"""Mail that must not keep a request waiting: the password reset link."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from partner_club.accounts import passwords
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
    locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        message = Message(
            to=passwords.mail_address(user) or "",
            subject=_("Partner Club: a new password"),
            text=_reset_text(user.display_name, link, int(passwords.RESET_VALID_FOR.total_seconds() // 60)),
        )
    send_now(message)
    return {"sent": True}


def _reset_text(name: str, link: str, minutes: int) -> str:
    return "\n\n".join(
        [
            _("Hello, %(name)s!", name=name),
            _(
                "Someone (we hope it was you) asked for a new password for your Partner Club "
                "account. Open this link to set one:"
            ),
            link,
            _(
                "The link works once and for %(minutes)s minutes. If you did not ask for it, "
                "ignore this message: your password stays as it is.",
                minutes=minutes,
            ),
        ]
    )
