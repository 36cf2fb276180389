"""Report e-mails through a real local SMTP server (aiosmtpd)."""

import io
import logging
import socket

from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select

from partner_club.accounts.models import Role
from partner_club.jobs.models import Job
from partner_club.jobs.services import enqueue
from partner_club.notifications.services import set_channels
from reports.jobs import run_due, send_due_reports
from reports.models import Subscription, Target
from reports.subscriptions import next_due, subscribe
from tests.notifications.servers import start_smtp
from tests.reports.helpers import land, utc

# Reports go only to an e-mail address the person confirmed with its code.
CONFIRMED = {"email": "boss@example.com", "email_confirmed_at": utc(2020, 1, 1)}


def test_due_dates():
    assert next_due("weekly", utc(2026, 3, 4, 12)) == utc(2026, 3, 9, 6)  # Wednesday -> Monday
    assert next_due("weekly", utc(2026, 3, 9, 5)) == utc(2026, 3, 9, 6)
    assert next_due("monthly", utc(2026, 3, 1, 6)) == utc(2026, 4, 1, 6)
    assert next_due("monthly", utc(2026, 12, 15)) == utc(2027, 1, 1, 6)


def test_send_command_mails_what_is_due(app, db, make, smtp):
    inbox, mail_config = smtp
    head = make.user(Role.HEAD_OFFICE, **CONFIRMED, login="boss@example.com")
    make.outlet()
    db.session.add(Subscription(user_id=head.id, frequency="weekly", next_due_at=utc(2020, 1, 6, 6)))
    nobody = make.user(Role.REP, login="no-mail", email=None)
    db.session.add(Subscription(user_id=nobody.id, frequency="weekly", next_due_at=utc(2020, 1, 6, 6)))
    db.session.add(
        Subscription(
            user_id=make.user(Role.REP, email="later@example.com", email_confirmed_at=utc(2020, 1, 1)).id,
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
    rep = make.user(Role.REP, email="rep@example.com", email_confirmed_at=utc(2026, 1, 1), locale="en")
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
    later = make.user(Role.HEAD_OFFICE, **CONFIRMED, login="boss@example.com")
    subscribe(db.session, later, "monthly", now=utc(2026, 3, 2))  # due only on April 1st
    db.session.commit()
    config = dict(app.config, **mail_config)

    result = run_due(db.session, now=utc(2026, 3, 1, 7), config=config)
    subscription = db.session.scalar(select(Subscription).where(Subscription.user_id == rep.id))
    assert result.sent == [subscription.id] and result.failed == []
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

    db.session.refresh(subscription)
    assert subscription.next_due_at == utc(2026, 4, 1, 6)
    assert run_due(db.session, now=utc(2026, 3, 1, 8), config=config).sent == []  # not twice
    assert len(inbox.messages) == 1


def test_a_dead_mail_server_leaves_the_report_due(app, db, make):
    rep = make.user(Role.REP, email="rep@example.com", email_confirmed_at=utc(2026, 1, 1))
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
    head = make.user(Role.HEAD_OFFICE, **CONFIRMED, login="boss@example.com")
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


def test_a_refused_report_address_is_named_by_subscription_id_not_by_address(app, db, make, caplog):
    inbox, controller = start_smtp()
    inbox.refused.add("boss@example.com")
    head = make.user(Role.HEAD_OFFICE, **CONFIRMED, login="boss@example.com")
    subscription = Subscription(user_id=head.id, frequency="weekly", next_due_at=utc(2020, 1, 6, 6))
    db.session.add(subscription)
    db.session.commit()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    try:
        with caplog.at_level(logging.DEBUG):
            result = app.test_cli_runner().invoke(args=["reports", "send", "--due"])
    finally:
        app.config.update({"MAIL_SERVER": None, "MAIL_PORT": 25})
        controller.stop()
    assert result.exit_code == 1
    assert f"failed: subscription {subscription.id}" in result.output
    assert "boss@example.com" not in result.output
    logged = _club_log(caplog)
    assert "SMTPRecipientsRefused" in logged and "boss@example.com" not in logged


def test_reports_go_only_to_a_confirmed_address_of_someone_who_wants_them(app, db, make, smtp):
    inbox, mail_config = smtp
    make.outlet()
    wants = make.user(Role.HEAD_OFFICE, **CONFIRMED)
    switched_off = make.user(Role.HEAD_OFFICE, email="off@example.com", email_confirmed_at=utc(2020, 1, 1))
    set_channels(db.session, switched_off.id, "reports", ["push"])  # "Report e-mails": no e-mail
    unconfirmed = make.user(Role.HEAD_OFFICE, email="typo@example.com")
    login_only = make.user(Role.HEAD_OFFICE, login="unproven@example.com", email=None)
    ids = {}
    for person in (wants, switched_off, unconfirmed, login_only):
        subscription = Subscription(user_id=person.id, frequency="weekly", next_due_at=utc(2020, 1, 6, 6))
        db.session.add(subscription)
        db.session.flush()
        ids[person.id] = subscription.id
    db.session.commit()
    result = run_due(db.session, now=utc(2026, 3, 2, 7), config=dict(app.config, **mail_config))
    assert result.sent == [ids[wants.id]] and result.failed == []
    assert result.skipped == {
        ids[switched_off.id]: "report e-mails switched off in the person's choices",
        ids[unconfirmed.id]: "no confirmed e-mail address",
        ids[login_only.id]: "no confirmed e-mail address",
    }
    assert [m["To"] for m in inbox.messages] == ["boss@example.com"]
    # Skipped ones move on to their next slot, like a report with nothing to say.
    assert all(s.next_due_at > utc(2026, 3, 2, 7) for s in db.session.scalars(select(Subscription)))


def _club_log(caplog) -> str:
    """What the club's own code logged, tracebacks included (the stand-in mail server logs the
    addresses it is given: that is the outside world, not us)."""
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("partner_club", "reports")]
    return "\n".join(caplog.handler.format(record) for record in ours)
