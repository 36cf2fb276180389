"""Mail goes out through a real SMTP server, and only after the commit."""

from __future__ import annotations

import logging

from partner_club.notifications.services import Attachment, Message, send_after_commit


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


def test_a_refused_address_is_kept_out_of_the_log(db, smtp, caplog):
    smtp.refused.add("anna@example.com")
    send_after_commit(db.session, Message(to="anna@example.com", subject="s", text="t"))
    with caplog.at_level(logging.DEBUG):
        db.session.commit()  # the refusal's text names the address; the log must not
    assert smtp.messages == []
    logged = _club_log(caplog)
    assert "SMTPRecipientsRefused" in logged and "anna@example.com" not in logged


def _club_log(caplog) -> str:
    """What the club's own code logged, tracebacks included (the stand-in mail server logs the
    addresses it is given: that is the outside world, not us)."""
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("partner_club", "reports")]
    return "\n".join(caplog.handler.format(record) for record in ours)
