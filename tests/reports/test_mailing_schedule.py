"""Report e-mails chosen by managers: scope, schedule, preview, language, the brand's layout."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from partner_club.accounts.models import Role
from reports.mailing import build_message
from reports.models import Subscription
from reports.subscriptions import next_due, parse_schedule, report_period, schedule_report
from tests.reports.helpers import utc


def _parts(message):
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


def test_a_russian_rep_gets_russian_from_the_command_line(app, db, make, client, login, smtp):
    """The language a rep picks on the site is the language of the mail a command sends."""
    inbox, mail_config = smtp
    rep = make.user(Role.REP, email="rep@example.com", email_confirmed_at=utc(2026, 1, 1), locale="en")
    make.territory(make.region("RU-TA"), rep=rep, name="Kazan North")
    login(rep)
    client.get("/lang/ru")
    db.session.add(Subscription(user_id=rep.id, frequency="weekly", next_due_at=utc(2020, 1, 6, 6)))
    db.session.commit()
    app.config.update(mail_config)
    try:
        result = app.test_cli_runner().invoke(args=["reports", "send", "--due"])
    finally:
        app.config.update({"MAIL_SERVER": None, "MAIL_PORT": 25})
    assert result.exit_code == 0, result.output
    (message,) = inbox.messages
    assert message["Subject"].startswith("Еженедельный отчёт по KPI")
    parts = _parts(message)
    assert "Регистраций: 0" in parts["text/plain"]
    assert 'lang="ru"' in parts["text/html"] and "Открыть карту KPI" in parts["text/html"]


def test_the_html_has_the_brand_and_a_text_part(app, db, make):
    head = make.user(Role.HEAD_OFFICE, login="boss@example.com", locale="en")
    make.outlet()
    message = build_message(db.session, head, "weekly", now=utc(2026, 3, 9, 6), to="boss@example.com")
    assert message.subject == "Weekly KPI report, 2026-03"
    assert message.text.startswith("Registrations: ")
    assert "http://club.test/reports/map?period=2026-03" in message.text
    html = message.html
    assert "Partner Club" in html and app.config["BRAND_PRIMARY"] in html
    assert "http://club.test/static/brand/icon-192.png" in html  # mail clients show no SVG logo
    assert "max-width:600px" in html and 'name="viewport"' in html
    assert html.count("cid:kpi-map") == 1
    assert "<script" not in html


def test_the_spans_and_the_due_moments_follow_the_time_zone():
    assert report_period("month_to_date", utc(2026, 3, 1, 3)).key == "2026-02"  # the 1st: the month over
    assert report_period("month_to_date", utc(2026, 3, 9, 3)).key == "2026-03"
    assert report_period("previous_month", utc(2026, 3, 9)).key == "2026-02"
    assert report_period("quarter_to_date", utc(2026, 5, 2)).key == "2026-Q2"
    assert report_period("previous_quarter", utc(2026, 5, 2)).key == "2026-Q1"
    assert report_period("year_to_date", utc(2026, 1, 1, 6)).key == "2025"
    # 23:00 UTC on Feb 28 is already March 1st in Vladivostok.
    assert report_period("previous_month", utc(2026, 2, 28, 23), "Asia/Vladivostok").key == "2026-02"
    # Tuesdays at 09:00 in Vladivostok (UTC+10) are Mondays 23:00 UTC.
    assert next_due("weekly", utc(2026, 3, 4), weekday=1, hour=9, zone="Asia/Vladivostok") == utc(
        2026, 3, 9, 23
    )
    assert next_due("daily", utc(2026, 3, 4, 4), hour=8, zone="Europe/Moscow") == utc(2026, 3, 4, 5)
    assert next_due("daily", utc(2026, 3, 4, 5), hour=8, zone="Europe/Moscow") == utc(2026, 3, 5, 5)
    assert next_due("monthly", utc(2026, 12, 1, 3), hour=6, zone="Europe/Moscow") == utc(2027, 1, 1, 3)


@pytest.fixture
def regions(make):
    """A regional manager in Tatarstan with a rep there, and a rep in Bashkortostan."""
    tatarstan, bashkortostan = make.region("RU-TA"), make.region("RU-BA")
    manager = make.user(Role.REGIONAL_MANAGER, region_id=tatarstan.id, email="rm@example.com")
    ours = make.user(Role.REP, email="ours@example.com", locale="ru", full_name="Rep Kazan")
    make.territory(tatarstan, rep=ours, name="Kazan North")
    theirs = make.user(Role.REP, email="theirs@example.com", full_name="Rep Ufa")
    make.territory(bashkortostan, rep=theirs, name="Ufa")
    owner = make.user(Role.OWNER, email="owner@example.com")
    return manager, ours, theirs, owner


def test_a_regional_manager_chooses_only_people_of_their_region(app, db, client, login, regions):
    manager, ours, theirs, owner = regions
    login(manager)
    page = client.get("/reports/subscriptions").get_data(as_text=True)
    assert "Rep Kazan" in page and "Rep Ufa" not in page
    form = {"frequency": "weekly", "weekday": "1", "hour": "9", "time_zone": "Asia/Yekaterinburg"}
    for outsider in (theirs, owner):
        response = client.post("/reports/subscriptions/schedule", data={**form, "recipient": outsider.id})
        assert response.status_code == 302
        assert (
            client.get(f"/reports/subscriptions/preview?recipient={outsider.id}&frequency=weekly").status_code
            == 404
        )
        assert (
            client.get(
                f"/reports/subscriptions/preview.html?recipient={outsider.id}&frequency=weekly"
            ).status_code
            == 404
        )
    assert db.session.scalars(select(Subscription)).all() == []

    response = client.post(
        "/reports/subscriptions/schedule", data={**form, "recipient": ours.id, "span": "previous_month"}
    )
    assert response.status_code == 302
    subscription = db.session.scalar(select(Subscription))
    assert (subscription.user_id, subscription.weekday, subscription.hour) == (ours.id, 1, 9)
    assert (subscription.time_zone, subscription.span, subscription.created_by_id) == (
        "Asia/Yekaterinburg",
        "previous_month",
        manager.id,
    )
    assert subscription.next_due_at.weekday() == 1 and subscription.next_due_at.hour == 4  # 09:00 at UTC+5


def test_cancelling_is_scoped_too(app, db, make, client, login, regions):
    manager, _ours, theirs, _owner = regions
    head = make.user(Role.HEAD_OFFICE, email="head@example.com")
    theirs_report = schedule_report(db.session, head, theirs, parse_schedule("daily"), now=utc(2026, 3, 1))
    db.session.commit()
    login(manager)
    assert client.post(f"/reports/subscriptions/{theirs_report.id}/cancel").status_code == 302
    db.session.expire_all()
    assert db.session.get(Subscription, theirs_report.id) is not None  # not theirs to cancel


def test_a_rep_cannot_choose_recipients(app, db, make, client, login, regions):
    _manager, ours, theirs, _owner = regions
    login(ours)
    response = client.post(
        "/reports/subscriptions/schedule", data={"recipient": theirs.id, "frequency": "daily"}
    )
    assert response.status_code == 403
    assert "Reports for your people" not in client.get("/reports/subscriptions").get_data(as_text=True)


def test_head_office_previews_in_the_recipients_language(app, db, make, client, login, regions):
    _manager, ours, _theirs, owner = regions
    head = make.user(Role.HEAD_OFFICE, email="head@example.com", locale="en")
    login(head)
    client.get("/lang/en")
    page = client.get(
        f"/reports/subscriptions/preview?recipient={ours.id}&frequency=monthly&span=previous_month"
    )
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Ежемесячный отчёт по KPI" in text  # the rep reads Russian, whatever head office reads
    assert "Preview of the report e-mail" in text
    frame = client.get(f"/reports/subscriptions/preview.html?recipient={ours.id}&frequency=monthly")
    assert frame.status_code == 200
    html = frame.get_data(as_text=True)
    assert "data:image/png;base64," in html and "cid:" not in html
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    assert "script-src" not in frame.headers["Content-Security-Policy"]
    assert (
        client.get(f"/reports/subscriptions/preview?recipient={owner.id}&frequency=weekly").status_code == 404
    )
    bad = client.get(f"/reports/subscriptions/preview?recipient={ours.id}&frequency=hourly")
    assert re.search("daily, weekly or monthly", bad.get_data(as_text=True))
