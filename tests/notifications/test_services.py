"""The notification service's core: the in-app list, rendering in the reader's language, owners only."""

from __future__ import annotations

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from partner_club.accounts.models import Role
from partner_club.jobs.models import Job
from partner_club.notifications.models import Notification
from partner_club.notifications.services import (
    Kind,
    UnknownKind,
    mark_read,
    notify,
    recent,
    register_kind,
    render,
    unread_count,
)

register_kind(
    Kind(
        name="test.shipped",
        group="orders",
        title=_l("Order %(number)s is on its way"),
        body=_l("Tracking number %(tracking)s."),
    )
)
# A text the club's catalogs already translate, to see the reader's language chosen.
register_kind(Kind(name="test.translated", group="people", title=_l("shop owner")))
register_kind(
    Kind(
        name="test.mailing",
        group="mailings",
        mailing=True,
        render=lambda params, locale: (f"{locale}: {params['subject']}", "body"),
    )
)


def test_notify_adds_to_the_in_app_list_and_counts_unread(db, make):
    person = make.user(Role.SELLER)
    other = make.user(Role.SELLER)
    first = notify(
        db.session, person.id, "test.shipped", params={"number": "A-1", "tracking": "RR1"}, link="/x"
    )
    second = notify(db.session, person.id, "test.shipped", params={"number": "A-2", "tracking": "RR2"})
    notify(db.session, other.id, "test.shipped", params={"number": "B-1", "tracking": "RR3"})
    db.session.commit()
    assert unread_count(db.session, person.id) == 2
    assert [n.id for n in recent(db.session, person.id)] == [second.id, first.id]
    assert first.link == "/x"


def test_mark_read_touches_only_the_persons_own(db, make):
    person = make.user(Role.SELLER)
    other = make.user(Role.SELLER)
    mine = notify(db.session, person.id, "test.shipped", params={"number": "1", "tracking": "t"})
    theirs = notify(db.session, other.id, "test.shipped", params={"number": "2", "tracking": "t"})
    db.session.commit()
    assert mark_read(db.session, person.id, [mine.id, theirs.id]) == 1
    db.session.commit()
    assert unread_count(db.session, person.id) == 0
    assert unread_count(db.session, other.id) == 1
    notify(db.session, other.id, "test.shipped", params={"number": "3", "tracking": "t"})
    assert mark_read(db.session, other.id) == 2
    assert unread_count(db.session, other.id) == 0


def test_render_in_the_readers_language(db, make):
    person = make.user(Role.SELLER)
    note = notify(db.session, person.id, "test.shipped", params={"number": "A-12", "tracking": "RR123"})
    assert render(note, "en") == ("Order A-12 is on its way", "Tracking number RR123.")
    assert render(note, None)[0] == "Order A-12 is on its way"  # untranslated texts stay English
    translated = notify(db.session, person.id, "test.translated")
    assert render(translated, "en") == ("shop owner", "")
    assert render(translated, "ru") == ("владелец магазина", "")
    mailing = notify(db.session, person.id, "test.mailing", params={"subject": "Hi"})
    assert render(mailing, "en") == ("en: Hi", "body")


def test_a_rolled_back_transaction_leaves_no_notification_and_no_job(db, make):
    person = make.user(Role.SELLER)
    db.session.commit()
    notify(db.session, person.id, "test.shipped", params={"number": "1", "tracking": "t"})
    db.session.rollback()
    assert db.session.scalars(select(Notification)).all() == []
    assert db.session.scalars(select(Job)).all() == []


def test_bad_kind_or_link_is_refused(db, make):
    person = make.user(Role.SELLER)
    with pytest.raises(UnknownKind):
        notify(db.session, person.id, "no.such.kind")
    with pytest.raises(ValueError, match="link"):
        notify(db.session, person.id, "test.shipped", link="https://evil.example/")
    with pytest.raises(ValueError, match="link"):
        notify(db.session, person.id, "test.shipped", link="//evil.example/")


def test_a_registrations_points_stay_in_the_app_list_and_start_no_delivery(app, db, make):
    person = make.user(role="seller")
    db.session.commit()
    before = db.session.scalar(select(func.count(Job.id)))
    notify(db.session, person.id, "points.credited", {"points": 25, "code": "X"}, link="/points/")
    db.session.commit()
    assert db.session.scalar(select(func.count(Job.id))) == before  # no push, SMS or e-mail job
    notify(db.session, person.id, "club.test", {}, link="/")
    db.session.commit()
    assert db.session.scalar(select(func.count(Job.id))) == before + 1
