"""Mail goes out through a real SMTP server, and only after the commit."""

from __future__ import annotations

import email
import socket

import pytest
from aiosmtpd.controller import Controller

from partner_club.notifications.services import Attachment, Message, send_after_commit


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    saved = app.config["MAIL_SERVER"], app.config["MAIL_PORT"]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    yield inbox
    app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = saved
    controller.stop()


def test_mail_is_sent_after_commit_with_attachment(db, smtp):
    message = Message(
        to="rep@example.com",
        subject="Отчёт",
        text="Итоги недели",
        attachments=[Attachment("report.csv", b"a,b\n1,2\n", "text/csv")],
    )
    send_after_commit(db.session, message)
    assert smtp.messages == []
    db.session.commit()
    [received] = smtp.messages
    assert received["To"] == "rep@example.com"
    parts = {part.get_filename(): part.get_payload(decode=True) for part in received.walk()}
    assert parts["report.csv"] == b"a,b\n1,2\n"


def test_rolled_back_work_sends_nothing(db, smtp):
    send_after_commit(db.session, Message(to="x@example.com", subject="s", text="t"))
    db.session.rollback()
    db.session.commit()
    assert smtp.messages == []
