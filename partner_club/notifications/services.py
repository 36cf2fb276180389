"""Messages to people: e-mail now; SMS and push behind the same small registry.

Messages are sent after the transaction that caused them commits (callers
use `send_after_commit`), so a rolled-back order never mails anyone.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from partner_club.redact import mask

log = logging.getLogger(__name__)
_PENDING = "partner_club.pending_messages"


@dataclass
class Attachment:
    filename: str
    content: bytes
    mimetype: str = "application/octet-stream"


@dataclass
class Message:
    to: str
    subject: str
    text: str
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    inline_images: dict[str, bytes] = field(default_factory=dict)  # cid -> PNG


class Channel:
    name = "base"

    def send(self, config: Mapping[str, Any], message: Message) -> None:
        raise NotImplementedError


class EmailChannel(Channel):
    name = "email"

    def send(self, config: Mapping[str, Any], message: Message) -> None:
        if not config.get("MAIL_SERVER"):
            log.info("mail (no MAIL_SERVER, not sent) to=%s subject=%s", mask(message.to), message.subject)
            return
        mail = EmailMessage()
        mail["From"] = config["MAIL_DEFAULT_SENDER"]
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail.set_content(message.text)
        if message.html:
            mail.add_alternative(message.html, subtype="html")
            html_part = list(mail.iter_parts())[-1]
            for cid, png in message.inline_images.items():
                html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>")
        for item in message.attachments:
            maintype, _, subtype = item.mimetype.partition("/")
            mail.add_attachment(item.content, maintype=maintype, subtype=subtype, filename=item.filename)
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(mail)


class LogChannel(Channel):
    """SMS and push until a gateway is configured: the message is logged."""

    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, config: Mapping[str, Any], message: Message) -> None:
        log.info("%s to=%s: %d characters", self.name, mask(message.to), len(message.text))


CHANNELS: dict[str, Channel] = {
    "email": EmailChannel(),
    "sms": LogChannel("sms"),
    "push": LogChannel("push"),
}


def send_now(message: Message, channel: str = "email", config: Mapping[str, Any] | None = None) -> None:
    CHANNELS[channel].send(config if config is not None else current_app.config, message)


def send_after_commit(session: Session, message: Message, channel: str = "email") -> None:
    session.connection()  # begins the transaction, so a rollback() is seen and drops the message
    session.info.setdefault(_PENDING, []).append((channel, message))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    for channel, message in pending or ():
        try:
            send_now(message, channel)
        except (OSError, smtplib.SMTPException):  # a mail server's trouble never undoes the work
            log.exception("could not send %s to %s", channel, mask(message.to))


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, _previous) -> None:
    # Every rollback() call, even with no SQL sent; a savepoint's rollback
    # leaves the outer transaction (and its pending work) alone.
    if not session.in_transaction():
        session.info.pop(_PENDING, None)
