"""Mailings: segments, scope, cost, the frequency cap, unsubscribed people, schedules, counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from codes.models import Registration
from partner_club.accounts.access import outlet_filter
from partner_club.accounts.models import Role
from partner_club.database import utcnow
from partner_club.errors import Forbidden, Invalid
from partner_club.mailings import jobs, segments, services
from partner_club.mailings.models import Mailing, MailingRecipient, MailingStatus, RecipientStatus
from partner_club.notifications.models import Delivery, Notification
from partner_club.notifications.services import allowed_channels, render, set_channels
from reports.models import MonthlyOutletRollup
from tests.codes import helpers
from tests.notifications import fixtures as notification_fixtures

smtp = notification_fixtures.smtp  # the real local mail server

TEXTS = dict(title_ru="Привет", title_en="Hello", body_ru="Новая акция", body_en="A new campaign")


@pytest.fixture
def world(make, db):
    north, south = make.region(), make.region()
    territory = make.territory(region=north)
    shop = make.outlet(region=north, territory=territory, kind="shop")
    market = make.outlet(region=north, kind="market")
    far = make.outlet(region=south, kind="shop")
    people = {
        "owner": make.user(Role.OWNER, outlet=shop),
        "seller": make.user(Role.SELLER, outlet=shop),
        "market": make.user(Role.OWNER, outlet=market, locale="en"),
        "far": make.user(Role.SELLER, outlet=far),
    }
    admin = make.user(Role.ADMIN)
    manager = make.user(Role.REGIONAL_MANAGER, region_id=north.id)
    return dict(
        north=north,
        south=south,
        territory=territory,
        shop=shop,
        market_shop=market,
        far_shop=far,
        admin=admin,
        manager=manager,
        **people,
    )


def _ids(db, segment, viewer):
    segment = segments.clean(segment)
    return {
        row.id
        for row in db.session.execute(
            segments.people_query(db.session, segment, outlet_filter(viewer), utcnow())
        )
    }


def test_each_criterion_narrows_and_they_combine(db, world):
    w, admin = world, world["admin"]
    everyone = {w[k].id for k in ("owner", "seller", "market", "far")}
    assert _ids(db, {}, admin) == everyone
    assert _ids(db, {"regions": [w["south"].id]}, admin) == {w["far"].id}
    assert _ids(db, {"territories": [w["territory"].id]}, admin) == {w["owner"].id, w["seller"].id}
    assert _ids(db, {"kinds": ["market"]}, admin) == {w["market"].id}
    assert _ids(db, {"roles": ["owner"]}, admin) == {w["owner"].id, w["market"].id}
    assert _ids(db, {"shops": [w["far_shop"].external_id]}, admin) == {w["far"].id}
    assert _ids(db, {"regions": [w["north"].id], "roles": ["seller"]}, admin) == {w["seller"].id}
    size = segments.audience_size(db.session, {"regions": [w["north"].id]}, outlet_filter(admin), utcnow())
    assert (size.people, size.shops) == (3, 2)


def test_activity_criteria(db, world, make):
    w, admin = world, world["admin"]
    batch_product = make_registration_parents(db)
    for person, days in ((w["owner"], 3), (w["seller"], 40)):
        db.session.add(
            Registration(
                batch_id=batch_product[0],
                serial=person.id,
                participant_id=person.id,
                outlet_id=person.outlet_id,
                product_id=batch_product[1],
                created_at=utcnow() - timedelta(days=days),
            )
        )
    db.session.flush()
    assert _ids(db, {"active_days": 7}, admin) == {w["owner"].id}
    assert _ids(db, {"inactive_days": 30}, admin) == {w["seller"].id, w["market"].id, w["far"].id}
    assert _ids(db, {"inactive_days": 30, "active_days": 60}, admin) == {w["seller"].id}


def make_registration_parents(db):
    made = helpers.batch(db.session)
    return made.id, made.product_id


def test_rfm_segment_reuses_the_reports_classification(db, world):
    w, admin = world, world["admin"]
    month = utcnow().date().replace(day=1)
    db.session.add(MonthlyOutletRollup(month=month, outlet_id=w["shop"].id, registrations=3, volume_m3=1.0))
    db.session.flush()
    assert _ids(db, {"rfm": ["new"]}, admin) == {w["owner"].id, w["seller"].id}
    assert _ids(db, {"rfm": ["never"]}, admin) == {w["market"].id, w["far"].id}
    with pytest.raises(Invalid):
        segments.clean({"rfm": ["nonsense"]})


def test_a_regional_manager_reaches_only_their_region(db, world):
    w, manager = world, world["manager"]
    assert _ids(db, {}, manager) == {w["owner"].id, w["seller"].id, w["market"].id}
    with pytest.raises(Forbidden):
        segments.check_scope(db.session, {"regions": [w["south"].id]}, manager)
    with pytest.raises(Forbidden):
        segments.check_scope(db.session, {"shops": [w["far_shop"].external_id]}, manager)
    with pytest.raises(Forbidden):
        segments.check_scope(db.session, {"shops": ["NO-SUCH-SHOP"]}, manager)
    with pytest.raises(Invalid):
        segments.check_scope(db.session, {"shops": ["NO-SUCH-SHOP"]}, w["admin"])
    segments.check_scope(db.session, {"shops": [w["shop"].external_id]}, manager)
    seller = w["seller"]
    with pytest.raises(Forbidden):
        services.save_mailing(db.session, services.MailingDraft(**TEXTS), actor=seller)


def test_a_mailing_reaches_the_region_it_was_written_for_after_its_writer_moves(db, make, world, work_jobs):
    writer = make.user(Role.REGIONAL_MANAGER, region_id=world["north"].id)
    draft = services.save_mailing(
        db.session, services.MailingDraft(**TEXTS, channels=["email"]), actor=writer
    )
    writer.region_id = world["south"].id  # moved to another region; the draft stays with the north
    db.session.commit()
    jobs.start_sending(db.session, draft, actor=world["manager"], now=utcnow())  # the north's manager
    db.session.commit()
    work_jobs()
    db.session.expire_all()
    mailing = db.session.get(Mailing, draft.id)
    recipients = {r.user_id for r in db.session.query(MailingRecipient).filter_by(mailing_id=mailing.id)}
    assert recipients == {world[k].id for k in ("owner", "seller", "market")}  # not "far", in the south
    assert mailing.status == MailingStatus.SENT.value and mailing.audience == 3


def _midday_zone() -> str:
    """A zone where it is about noon now: a mailing is not urgent and waits out the night."""
    offset = 12 - datetime.now(UTC).hour
    offset = offset - 24 if offset > 12 else offset
    return f"Etc/GMT{-offset:+d}"  # the Etc zones' signs are inverted


def test_a_mailing_e_mail_carries_an_unsubscribe_link_and_headers_that_work(
    db, world, work_jobs, smtp, client
):
    person = world["owner"]
    person.email, person.email_confirmed_at, person.locale = "anna@example.com", utcnow(), "ru"
    person.time_zone = _midday_zone()
    db.session.commit()
    _send(db, world, work_jobs, segment={"roles": ["owner"], "regions": [world["north"].id]})
    [mail] = [m for m in smtp.messages if m["To"] == "anna@example.com"]
    # A long header is folded onto a second line: the leading space is the fold.
    link = re.fullmatch(r"<(http://club\.test/unsubscribe/\S+)>", mail["List-Unsubscribe"].strip()).group(1)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"Отписаться от рассылок: {link}" in mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert re.search(rf'<a href="{re.escape(link)}"[^>]*>Отписаться от рассылок</a>', html)
    assert allowed_channels(db.session, person.id, "mailings") == ("push", "sms", "email")
    assert (
        client.post(link.removeprefix("http://club.test"), data={"List-Unsubscribe": "One-Click"}).status_code
        == 200
    )
    assert allowed_channels(db.session, person.id, "mailings") == ()


def test_sms_parts():
    assert services.sms_parts("") == 0
    assert services.sms_parts("a" * 160) == 1
    assert services.sms_parts("a" * 161) == 2
    assert services.sms_parts("я" * 70) == 1
    assert services.sms_parts("я" * 71) == 2
    assert services.sms_parts("я" * 134) == 2
    assert services.sms_parts("я" * 135) == 3
    assert services.sms_parts("{" * 80) == 1 and services.sms_parts("{" * 81) == 2


def test_both_languages_are_required(db, world):
    with pytest.raises(Invalid):
        services.save_mailing(
            db.session, services.MailingDraft(**{**TEXTS, "body_en": " "}), actor=world["admin"]
        )


def _send(db, world, work_jobs, **draft):
    mailing = services.save_mailing(
        db.session, services.MailingDraft(**TEXTS, channels=["email"], **draft), actor=world["admin"]
    )
    jobs.start_sending(db.session, mailing, actor=world["admin"], now=utcnow())
    db.session.commit()  # the in-process job runs at the commit
    work_jobs()  # or a real rq worker takes it
    db.session.expire_all()
    return db.session.get(Mailing, mailing.id)


def test_a_mailing_reaches_each_person_once_in_their_language(db, world, work_jobs):
    mailing = _send(db, world, work_jobs, segment={"regions": [world["north"].id]})
    assert mailing.status == MailingStatus.SENT.value
    rows = db.session.query(MailingRecipient).filter_by(mailing_id=mailing.id).all()
    assert {r.user_id for r in rows} == {world[k].id for k in ("owner", "seller", "market")}
    english = (
        db.session.query(Notification).filter_by(mailing_id=mailing.id, user_id=world["market"].id).one()
    )
    assert render(english, "en") == ("Hello", "A new campaign")
    assert render(english, "ru") == ("Привет", "Новая акция")
    skipped = {
        d.channel for d in db.session.query(Delivery).filter_by(notification_id=english.id, status="skipped")
    }
    assert {"push", "sms"} <= skipped  # not channels of this mailing
    counts = services.counts(db.session, mailing)
    assert (counts.handled, counts.sent, counts.audience) == (3, 3, 3)


def test_frequency_cap_and_unsubscribed_people_are_skipped_and_counted(db, world, work_jobs):
    services.set_limits(db.session, cap=1, rate=100, actor=world["admin"])
    set_channels(db.session, world["seller"].id, "mailings", [])
    db.session.commit()
    first = _send(db, world, work_jobs, segment={"roles": ["seller"]})
    second = _send(db, world, work_jobs, segment={"regions": [world["north"].id]})
    c1, c2 = services.counts(db.session, first), services.counts(db.session, second)
    assert (c1.sent, c1.unsubscribed) == (1, 1)  # "far" got it; the unsubscribed seller did not
    assert (c2.sent, c2.unsubscribed, c2.capped) == (2, 1, 0)
    third = _send(db, world, work_jobs, segment={"regions": [world["north"].id]})
    c3 = services.counts(db.session, third)
    assert (c3.sent, c3.capped, c3.unsubscribed) == (0, 2, 1)
    assert not db.session.query(Notification).filter_by(mailing_id=third.id).count()


def test_a_scheduled_mailing_starts_when_due(db, world, work_jobs):
    admin = world["admin"]
    mailing = services.save_mailing(db.session, services.MailingDraft(**TEXTS), actor=admin)
    now = utcnow()
    with pytest.raises(Invalid):
        services.schedule(db.session, mailing, now - timedelta(minutes=1), actor=admin, now=now)
    services.schedule(db.session, mailing, now + timedelta(hours=1), actor=admin, now=now)
    assert jobs.mailings_send_due(db.session, now) == 0
    assert jobs.mailings_send_due(db.session, now + timedelta(hours=1)) == 1
    db.session.commit()
    work_jobs()
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).status == MailingStatus.SENT.value
    assert jobs.mailings_send_due(db.session, now + timedelta(hours=2)) == 0


def test_club_time_is_read_in_the_clubs_zone():
    assert services.club_time("2026-12-01T10:00", "Europe/Moscow").hour == 7
    with pytest.raises(Invalid):
        services.club_time("tomorrow", "Europe/Moscow")


def test_recipient_rows_are_unique_per_mailing_and_person(db, world, work_jobs):
    mailing = _send(db, world, work_jobs, segment={"roles": ["seller"]})
    db.session.add(
        MailingRecipient(mailing_id=mailing.id, user_id=world["far"].id, status=RecipientStatus.SENT.value)
    )
    with pytest.raises(Exception, match=r"(?i)unique"):
        db.session.flush()
    db.session.rollback()


def test_the_send_due_command_starts_what_is_due(app, db, world, work_jobs):
    admin = world["admin"]
    mailing = services.save_mailing(db.session, services.MailingDraft(**TEXTS), actor=admin)
    services.schedule(db.session, mailing, utcnow() + timedelta(seconds=1), actor=admin, now=utcnow())
    mailing.send_at = utcnow() - timedelta(minutes=1)  # its time has come
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["mailings", "send-due"])
    assert result.exit_code == 0 and "1 mailing(s) started" in result.output
    work_jobs()
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).status == MailingStatus.SENT.value
