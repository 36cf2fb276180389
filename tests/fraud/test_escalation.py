"""A held participant is told when to expect an answer; an overdue case goes to the regional manager."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask_babel import force_locale
from sqlalchemy import select

from fraud.history import Observation
from fraud.models import ReviewCase
from fraud.review import cases_query, escalate_overdue
from fraud.services import REVIEW_SLA_KEY, held_message, store_observation
from partner_club.settings_store import put_setting
from partner_club.signals import Assessment, Reason
from tests.partner_club.test_notifications import smtp  # noqa: F401 - the real local SMTP server

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def held_case(db, seller, hours_ago: float) -> ReviewCase:
    obs = Observation(
        ts=(NOW - timedelta(hours=hours_ago)).timestamp(),
        participant_id=seller.id,
        outlet_id=seller.outlet_id,
    )
    store_observation(db.session, obs, Assessment("hold", 50.0, [Reason("velocity", 50.0, "x", {})]))
    case = db.session.scalars(select(ReviewCase).order_by(ReviewCase.id.desc())).first()
    case.created_at = NOW - timedelta(hours=hours_ago)
    return case


def test_the_held_message_names_the_clubs_review_time(app, db):
    with force_locale("en"):
        assert held_message(db.session).endswith("expect an answer within 48 hours.")
    put_setting(db.session, REVIEW_SLA_KEY, 24)
    with force_locale("ru"):
        assert "баллы проходят проверку" in held_message(db.session)
        assert held_message(db.session).endswith("в течение 24 ч.")


def test_an_overdue_case_is_escalated_to_the_regions_manager(app, db, make, smtp):  # noqa: F811
    seller = make.user("seller")
    manager = make.user(
        "regional_manager", region_id=seller.outlet.region_id, email="rm@example.com", locale="en"
    )
    make.user("regional_manager", region_id=make.region().id, email="other@example.com")
    admin = make.user("admin")
    fresh, overdue = held_case(db, seller, 5), held_case(db, seller, 49)
    fresh.score = 90  # a higher score would come first, were the other case not overdue
    db.session.flush()
    with force_locale("ru"):  # the job's language is not the manager's
        escalated = escalate_overdue(db.session, now=NOW)
    assert escalated == [overdue] and overdue.escalated_at is not None and fresh.escalated_at is None
    db.session.commit()
    [mail] = smtp.messages
    assert mail["To"] == manager.email
    assert mail["Subject"] == "Partner Club: 1 held registration waits too long for a review"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert f"#{overdue.id}" in text and "longer than 48 hours" in text
    assert f"/fraud/cases/{overdue.id}" in html and "Open the review queue" in html
    assert escalate_overdue(db.session, now=NOW) == []  # told once
    queue = db.session.scalars(cases_query(admin)).all()
    assert queue[:2] == [overdue, fresh]
    # The manager told can review the region's cases, and only those.
    held_case(db, make.user("seller"), 1)  # a shop of another region
    assert set(db.session.scalars(cases_query(manager))) == {overdue, fresh}


def test_the_escalate_command(app, db, make):
    seller = make.user("seller")
    held_case(db, seller, 24 * 30)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["fraud", "escalate"])
    assert result.exit_code == 0 and result.output.startswith("1 cases escalated (older than 48 hours)")


def test_the_review_time_command_sets_the_clubs_promise(app, db):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["fraud", "review-time"]).output.strip().endswith("within 48 hours.")
    assert runner.invoke(args=["fraud", "review-time", "24"]).exit_code == 0
    db.session.expire_all()
    with force_locale("en"):
        assert held_message(db.session).endswith("within 24 hours.")
