"""Report e-mails through a real local SMTP server (aiosmtpd)."""

import email
import email.policy
import io
import socket

import pytest
from aiosmtpd.controller import Controller
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from partner_club.accounts.models import Role
from partner_club.jobs.models import Job
from partner_club.jobs.services import enqueue
from reports.jobs import run_due, send_due_reports
from reports.models import Subscription, Target
from reports.subscriptions import next_due, subscribe
from tests.reports.helpers import land, utc


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port}
    finally:
        controller.stop()


def test_due_dates():
    assert next_due("weekly", utc(2026, 3, 4, 12)) == utc(2026, 3, 9, 6)  # Wednesday -> Monday
    assert next_due("weekly", utc(2026, 3, 9, 5)) == utc(2026, 3, 9, 6)
    assert next_due("monthly", utc(2026, 3, 1, 6)) == utc(2026, 4, 1, 6)
    assert next_due("monthly", utc(2026, 12, 15)) == utc(2027, 1, 1, 6)


def test_send_command_mails_what_is_due(app, db, make, smtp):
    inbox, mail_config = smtp
    head = make.user(Role.HEAD_OFFICE, login="boss@example.com")
    make.outlet()
    db.session.add(Subscription(user_id=head.id, frequency="weekly", next_due_at=utc(2020, 1, 6, 6)))
    nobody = make.user(Role.REP, login="no-mail", email=None)
    db.session.add(Subscription(user_id=nobody.id, frequency="weekly", next_due_at=utc(2020, 1, 6, 6)))
    db.session.add(
        Subscription(
            user_id=make.user(Role.REP, email="later@example.com").id,
            frequency="monthly",
            next_due_at=utc(2999, 1, 1),
        )
    )
    db.session.commit()
    app.config.update(mail_config)
    try:
        result = app.test_cli_runner().invoke(args=["reports", "send", "--due"])
    finally:
        app.config.update({"MAIL_SERVER": None, "MAIL_PORT": 25})
    assert result.exit_code == 0, result.output
    assert "sent 1, skipped 1" in result.output
    assert [m["To"] for m in inbox.messages] == ["boss@example.com"]
    assert inbox.messages[0].get_body(("html",)).get_content().count("cid:kpi-map") == 1


def test_run_due_sends_csv_xlsx_and_map_picture(app, db, make, smtp):
    inbox, mail_config = smtp
    region = make.region("RU-TA")
    rep = make.user(Role.REP, email="rep@example.com", locale="en")
    territory = make.territory(region, rep=rep, name="Kazan North")
    shop = make.outlet(region=region, territory=territory, name="Paint House")
    foreign = make.outlet(region=region, name="Someone else's shop")
    land(db.session, shop, at=utc(2026, 2, 10), times=4)
    land(db.session, foreign, at=utc(2026, 2, 10), times=9)
    db.session.add(
        Target(
            metric="packages", period="2026-02", scope_kind="territory", territory_id=territory.id, value=10
        )
    )
    subscribe(db.session, rep, "monthly", now=utc(2026, 2, 20))
    later = make.user(Role.HEAD_OFFICE, login="boss@example.com")
    subscribe(db.session, later, "monthly", now=utc(2026, 3, 2))  # due only on April 1st
    db.session.commit()
    config = dict(app.config, **mail_config)

    result = run_due(db.session, now=utc(2026, 3, 1, 7), config=config)
    assert result.sent == [f"{rep.login} (monthly)"] and result.failed == []
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "rep@example.com"
    assert "2026-02" in message["Subject"]
    parts = {part.get_filename(): part for part in message.walk() if part.get_filename()}
    assert set(parts) == {"kpi-2026-02.csv", "kpi-2026-02.xlsx", "kpi-2026-02.png"}
    body = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    assert "Registrations: 4" in body and "Kazan North" in body
    csv_text = parts["kpi-2026-02.csv"].get_payload(decode=True).decode("utf-8-sig")
    assert "Paint House" in csv_text and "Someone else" not in csv_text
    sheet = load_workbook(io.BytesIO(parts["kpi-2026-02.xlsx"].get_payload(decode=True))).active
    assert any(row[2] == "Paint House" for row in sheet.values)
    picture = Image.open(io.BytesIO(parts["kpi-2026-02.png"].get_payload(decode=True)))
    assert picture.size == (800, 560)
    red = (0xD9, 0x30, 0x25)  # the territory is behind (4 of 10): red somewhere on the picture
    assert red in {colour for _count, colour in picture.convert("RGB").getcolors(100000)}

    subscription = db.session.scalar(select(Subscription).where(Subscription.user_id == rep.id))
    assert subscription.next_due_at == utc(2026, 4, 1, 6)
    assert run_due(db.session, now=utc(2026, 3, 1, 8), config=config).sent == []  # not twice
    assert len(inbox.messages) == 1


def test_a_dead_mail_server_leaves_the_report_due(app, db, make):
    rep = make.user(Role.REP, email="rep@example.com")
    make.territory(make.region(), rep=rep)
    subscribe(db.session, rep, "weekly", now=utc(2026, 3, 1))
    db.session.commit()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    config = dict(app.config, MAIL_SERVER="127.0.0.1", MAIL_PORT=dead_port)
    result = run_due(db.session, now=utc(2026, 3, 2, 7), config=config)
    assert result.failed and not result.sent
    subscription = db.session.scalar(select(Subscription))
    assert subscription.next_due_at == utc(2026, 3, 2, 6)  # still due


def test_the_send_job_runs_through_the_job_queue(app, db, make, smtp, work_jobs):
    inbox, mail_config = smtp
    head = make.user(Role.HEAD_OFFICE, login="boss@example.com")
    db.session.add(Subscription(user_id=head.id, frequency="monthly", next_due_at=utc(2020, 1, 1, 6)))
    db.session.commit()
    app.config.update(mail_config)
    try:
        job = enqueue(db.session, send_due_reports, title="report e-mails")
        db.session.commit()
        work_jobs()
    finally:
        app.config.update({"MAIL_SERVER": None, "MAIL_PORT": 25})
    db.session.expire_all()
    finished = db.session.get(Job, job.id)
    assert finished.status == "finished", finished.error
    assert finished.result == {"sent": 1, "failed": 0, "skipped": 0}
    assert [m["To"] for m in inbox.messages] == ["boss@example.com"]
