"""partner_club.throttle: free failures, then slower, then a stop; per person and per address."""

from __future__ import annotations

from datetime import timedelta

import pytest

from partner_club import throttle
from partner_club.database import utcnow
from partner_club.errors import TooManyAttempts

LIMITS = {"user": throttle.Limits(free=2, hard=5), "ip": throttle.Limits(free=3, hard=6)}


def _fail(db, pairs, at):
    throttle.record_failure(db.session, "test", pairs, limits=LIMITS, now=at)
    db.session.commit()


def test_free_then_slower_then_stopped_then_free_again(db):
    pairs = throttle.subjects(7, None)
    start = utcnow()
    _fail(db, pairs, start)
    _fail(db, pairs, start)
    throttle.check(db.session, "test", pairs, limits=LIMITS, now=start)  # two free failures
    _fail(db, pairs, start)
    with pytest.raises(TooManyAttempts) as slowed:
        throttle.check(db.session, "test", pairs, limits=LIMITS, now=start)
    assert slowed.value.retry_after == 2
    throttle.check(db.session, "test", pairs, limits=LIMITS, now=start + timedelta(seconds=2))
    _fail(db, pairs, start + timedelta(seconds=3))
    _fail(db, pairs, start + timedelta(seconds=10))  # the fifth: stopped for the block time
    with pytest.raises(TooManyAttempts) as stopped:
        throttle.check(db.session, "test", pairs, limits=LIMITS, now=start + timedelta(seconds=20))
    assert stopped.value.retry_after > 3000
    later = start + timedelta(seconds=10) + LIMITS["user"].block + timedelta(seconds=1)
    throttle.check(db.session, "test", pairs, limits=LIMITS, now=later)
    assert throttle.failures_of(db.session, "test", "user:7") == 5


def test_an_address_is_limited_across_people(db):
    start = utcnow()
    for person in range(4):
        _fail(db, throttle.subjects(100 + person, "192.0.2.9"), start)
    with pytest.raises(TooManyAttempts):
        throttle.check(db.session, "test", throttle.subjects(200, "192.0.2.9"), limits=LIMITS, now=start)
    throttle.check(db.session, "test", throttle.subjects(200, "192.0.2.10"), limits=LIMITS, now=start)


def test_failures_outside_the_window_are_forgotten(db):
    pairs = throttle.subjects(8, None)
    start = utcnow()
    for _ in range(3):
        _fail(db, pairs, start)
    with pytest.raises(TooManyAttempts):  # within the window, three failures slow the person down
        throttle.check(db.session, "test", pairs, limits=LIMITS, now=start)
    later = start + LIMITS["user"].window + timedelta(minutes=1)
    throttle.check(db.session, "test", pairs, limits=LIMITS, now=later)
    _fail(db, pairs, later)
    throttle.check(db.session, "test", pairs, limits=LIMITS, now=later)


def test_reset_lifts_a_stop(db):
    pairs = throttle.subjects(9, None)
    start = utcnow()
    for _ in range(5):
        _fail(db, pairs, start)
    with pytest.raises(TooManyAttempts) as stopped:  # the precondition: the person is stopped
        throttle.check(db.session, "test", pairs, limits=LIMITS, now=utcnow())
    assert stopped.value.retry_after > 3000
    throttle.reset(db.session, "test", "user:9")
    throttle.check(db.session, "test", pairs, limits=LIMITS, now=utcnow())
