"""Nobody is woken: a non-urgent message waits for 08:00 in the person's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from partner_club.accounts.models import Role
from partner_club.database import utcnow
from partner_club.notifications.delivery import claim, due_notifications, next_step
from partner_club.notifications.models import Delivery, Notification
from partner_club.notifications.services import Kind, register_kind
from partner_club.notifications.zones import person_zone, quiet_until
from partner_club.regions.zones import region_zone

register_kind(Kind(name="test.night_points", group="points", title="Points credited"))
register_kind(Kind(name="test.night_code", group="orders", title="Your gift-card code", urgent=True))

# 15:30 UTC: 17:30 in Kaliningrad, 18:30 in Moscow, 22:30 in Novosibirsk, 03:30 next day in Kamchatka.
AFTERNOON_UTC = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("iso_code", "zone"),
    [
        ("RU-KGD", "Europe/Kaliningrad"),
        ("RU-MOW", "Europe/Moscow"),
        ("RU-TA", "Europe/Moscow"),
        ("RU-SAM", "Europe/Samara"),
        ("RU-SVE", "Asia/Yekaterinburg"),
        ("RU-NVS", "Asia/Novosibirsk"),
        ("RU-KYA", "Asia/Krasnoyarsk"),
        ("RU-IRK", "Asia/Irkutsk"),
        ("RU-SA", "Asia/Yakutsk"),
        ("RU-PRI", "Asia/Vladivostok"),
        ("RU-MAG", "Asia/Magadan"),
        ("RU-KAM", "Asia/Kamchatka"),
        ("KZ-ALA", "Asia/Almaty"),
        ("KZ-ATY", "Asia/Atyrau"),
    ],
)
def test_regions_have_their_zones(iso_code, zone):
    assert region_zone(iso_code) == zone


def test_the_eleven_zones_of_russia_are_covered():
    offsets = {
        AFTERNOON_UTC.astimezone(ZoneInfo(region_zone(f"RU-{code}"))).utcoffset()
        for code in ["KGD", "MOW", "SAM", "SVE", "OMS", "NVS", "IRK", "SA", "PRI", "MAG", "KAM"]
    }
    assert len(offsets) == 11


def test_quiet_until_the_morning():
    novosibirsk = ZoneInfo("Asia/Novosibirsk")
    assert quiet_until(AFTERNOON_UTC, ZoneInfo("Europe/Kaliningrad")) is None
    assert quiet_until(AFTERNOON_UTC, novosibirsk) == datetime(2026, 12, 5, 8, 0, tzinfo=novosibirsk)
    early = datetime(2026, 12, 4, 18, 30, tzinfo=UTC)  # 03:30 in Kamchatka the same morning
    kamchatka = ZoneInfo("Asia/Kamchatka")
    assert quiet_until(early, kamchatka) == datetime(2026, 12, 5, 8, 0, tzinfo=kamchatka)
    assert quiet_until(datetime(2026, 12, 4, 18, 0, tzinfo=UTC), ZoneInfo("Europe/Moscow")) == datetime(
        2026, 12, 5, 5, 0, tzinfo=UTC
    )  # 21:00 in Moscow is already night


def _person_in(make, iso_code, **kw):
    region = make.region(iso_code)
    outlet = make.outlet(region=region)
    person = make.user(Role.OWNER, outlet=outlet, email=f"{iso_code.lower()}@example.com", locale="en", **kw)
    person.email_confirmed_at = utcnow()
    return person


def _first_delivery(db, person, kind, app):
    note = Notification(user_id=person.id, kind=kind, params={})
    db.session.add(note)
    db.session.flush()
    outgoing = next_step(db.session, note.id, now=AFTERNOON_UTC, config=app.config)
    row = db.session.scalars(
        select(Delivery).where(Delivery.notification_id == note.id, Delivery.channel == "email")
    ).one()
    return outgoing, row


def test_a_message_waits_for_the_morning_in_the_persons_zone_only(db, make, app, smtp):
    west = _person_in(make, "RU-KGD")
    east = _person_in(make, "RU-NVS")
    outgoing, row = _first_delivery(db, west, "test.night_points", app)
    assert outgoing is not None and outgoing.channel == "email" and row.not_before is None
    outgoing, row = _first_delivery(db, east, "test.night_points", app)
    assert outgoing is None and row.status == "waiting" and row.attempts == 0
    assert row.not_before == row.next_attempt_at == datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # 08:00 NSK
    assert row.notification_id not in due_notifications(
        db.session, now=datetime(2026, 12, 5, 0, 59, tzinfo=UTC)
    )
    assert row.notification_id in due_notifications(db.session, now=datetime(2026, 12, 5, 1, 0, tzinfo=UTC))


def test_urgent_messages_go_at_night(db, make, app, smtp):
    east = _person_in(make, "RU-NVS")
    outgoing, row = _first_delivery(db, east, "test.night_code", app)
    assert outgoing is not None and row.not_before is None and row.attempts == 1


def test_the_persons_own_zone_wins_then_the_region_then_the_club_default(db, make, app):
    own = _person_in(make, "RU-NVS", time_zone="Europe/Kaliningrad")
    assert person_zone(db.session, own, app.config) == ZoneInfo("Europe/Kaliningrad")
    by_region = _person_in(make, "RU-KAM")
    assert person_zone(db.session, by_region, app.config) == ZoneInfo("Asia/Kamchatka")
    unknown_region = _person_in(make, "XX-ZZ")
    assert person_zone(db.session, unknown_region, {"BABEL_DEFAULT_TIMEZONE": "Asia/Omsk"}) == ZoneInfo(
        "Asia/Omsk"
    )
    staff = make.user(Role.HEAD_OFFICE, time_zone="Not/AZone")
    assert person_zone(db.session, staff, {"BABEL_DEFAULT_TIMEZONE": "Europe/Moscow"}) == ZoneInfo(
        "Europe/Moscow"
    )


def test_two_workers_waking_the_same_message_send_it_once(db, make, app, smtp):
    east = _person_in(make, "RU-NVS")
    _outgoing, row = _first_delivery(db, east, "test.night_points", app)
    db.session.commit()
    morning = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
    stale_attempts = row.attempts  # what a second worker read before the first one claimed
    first = next_step(db.session, row.notification_id, now=morning, config=app.config)
    assert first is not None and first.channel == "email"
    db.session.commit()
    # The second worker's update names the attempts it saw, which no longer match.
    set_committed_value(row, "attempts", stale_attempts)
    assert not claim(db.session, row, now=morning)
    db.session.rollback()
    assert db.session.get(Delivery, row.id).attempts == 1
