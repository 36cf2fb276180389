"""E-mail over SMTP, and the after-commit queue of plain messages older code sends.

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

from partner_club.redact import mask

log = logging.getLogger("partner_club.notifications.services")


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
    headers: dict[str, str] = field(default_factory=dict)  # more headers, e.g. List-Unsubscribe


def build_email(config: Mapping[str, Any], message: Message) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = config.get("MAIL_DEFAULT_SENDER") or "Partner Club <club@localhost>"
    mail["To"] = message.to
    mail["Subject"] = message.subject
    for name, value in message.headers.items():
        mail[name] = value
    mail.set_content(message.text)
    if message.html:
        mail.add_alternative(message.html, subtype="html")
        html_part = list(mail.iter_parts())[-1]
        for cid, png in message.inline_images.items():
            html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>")
    for item in message.attachments:
        maintype, _, subtype = item.mimetype.partition("/")
        mail.add_attachment(item.content, maintype=maintype, subtype=subtype, filename=item.filename)
    return mail


def send_email(config: Mapping[str, Any], message: Message) -> bool:
    """Sends through MAIL_SERVER; False (and a log line) when no server is set."""
    if not config.get("MAIL_SERVER"):
        log.info("mail (no MAIL_SERVER, not sent) to=%s subject=%s", mask(message.to), message.subject)
        return False
    mail = build_email(config, message)
    timeout = float(config.get("MAIL_TIMEOUT", 30))
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(mail)
    return True
