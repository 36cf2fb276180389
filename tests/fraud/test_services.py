"""Decisions, settings and the live path through the registration signals."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale

from fraud.history import MemoryHistory, Observation
from fraud.live_history import DbHistory
from fraud.models import FraudObservation, ReviewCase
from fraud.neighbours import neighbour_pairs
from fraud.services import Engine, FraudConfig, load_config, save_config, store_observation, validate_config
from partner_club.errors import Invalid
from partner_club.signals import assess_registration
from partner_club.throttle import AttemptCounter
from tests.fraud.helpers import attempt
from tests.registrations import store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_thresholds_outside_sane_ranges_are_refused_with_every_problem_named(db):
    with pytest.raises(Invalid) as refused, force_locale("en"):
        validate_config(
            {
                "hold_score": 50,
                "reject_score": 30,
                "detectors": {
                    "sequence": {"params": {"run_min": 1}},
                    "velocity": {"params": {"ratio": "lots"}},
                },
            }
        )
    text = refused.value.message
    assert "The reject score must be higher than the hold score." in text
    assert "Serial sequences: a run may always be this long: 1 is outside the sane range 3-10000." in text
    assert "Velocity: times the busier of its own and similar shops' busy day: enter a number." in text


def test_settings_are_stored_and_read_back(db, make):
    admin = make.user("admin")
    save_config(
        db.session,
        {
            "hold_score": 35,
            "reject_score": 80,
            "detectors": {"canary": {"enabled": False}, "sequence": {"params": {"run_min": "9"}}},
        },
        actor=admin,
    )
    config = load_config(db.session)
    assert (config.hold_score, config.reject_score) == (35, 80)
    assert config.enabled["canary"] is False and config.params["sequence"]["run_min"] == 9
    assert config.params["velocity"]["ratio"] == 2.5  # untouched defaults stay


def test_live_decisions_are_stored_with_score_and_reasons_and_holds_open_cases(db, make):
    seller = make.user("seller")
    answers = []
    for i in range(10):  # ten labels of a roll, faster than packages can be unpacked
        a = attempt(db.session, seller, 500 + i, T0 + timedelta(seconds=2 * i))
        answers.append(assess_registration(a))
        store(a, 1000 + i, answers[-1])
    assert [x.decision for x in answers] == ["accept"] * 9 + ["hold"]
    rows = db.session.query(FraudObservation).order_by(FraudObservation.id).all()
    assert [r.decision for r in rows] == ["accept"] * 9 + ["hold"]
    assert rows[-1].reasons[0]["detector"] == "sequence" and rows[-1].score == 50
    case = db.session.query(ReviewCase).one()
    assert (case.registration_id, case.participant_id, case.status) == (1009, seller.id, "open")

    canary = assess_registration(attempt(db.session, seller, 9, T0 + timedelta(hours=3), is_canary=True))
    assert canary.decision == "reject" and canary.score == 100
    again = assess_registration(attempt(db.session, seller, 500, T0 + timedelta(hours=4)))
    assert again.decision == "reject" and again.reasons[0].detector == "duplicate"


def test_database_history_answers_like_memory_history(db, make):
    """The same stream through both histories gives the same decisions."""
    rng = random.Random(4)
    sellers = [make.user("seller") for _ in range(3)]
    for s in sellers[1:]:
        s.outlet_id = sellers[0].outlet_id
    db.session.flush()
    stream = []
    t = T0.timestamp() - 9 * 86400
    for i in range(160):
        t += rng.choice([2, 30, 200, 3000, 20000])
        s = rng.choice(sellers)
        failure = "bad_check_symbol" if rng.random() < 0.15 else None
        stream.append(
            dict(
                ts=t,
                participant_id=s.id,
                outlet_id=s.outlet_id,
                outlet_kind="shop",
                channel=rng.choice(["typed", "qr"]),
                ip=rng.choice(["a", "b"]),
                device=rng.choice(["d1", "d2", f"d{s.id}"]),
                failure=failure,
                batch_id=None if failure else 3,
                batch_number=3,
                serial=None if failure else (rng.randint(1, 60) if i % 40 else 70),
                batch_region_id=1,
                region_id=rng.choice([1, 1, 2]),
                batch_shipped=True,
            )
        )
    memory = Engine(FraudConfig(), MemoryHistory())
    memory.history.neighbours = neighbour_pairs(db.session)  # as replay does
    live = Engine(FraudConfig(), DbHistory(db.session))
    for event in stream:
        a, b = Observation(**event), Observation(**event)
        first, second = memory.assess(a), live.assess(b)
        assert (first.decision, first.score, [r.detector for r in first.reasons]) == (
            second.decision,
            second.score,
            [r.detector for r in second.reasons],
        ), event
        memory.observe(a)
        store_observation(db.session, b, second)
    assert {o.decision for o in db.session.query(FraudObservation)} >= {"accept", "reject"}


def test_live_guessing_reads_the_registration_throttle(db, make):
    """Refused codes roll back with their request; codes' attempt counter survives and fraud reads it."""
    seller = make.user("seller")
    at = T0 + timedelta(minutes=30)
    db.session.add(
        AttemptCounter(
            scope="code",
            subject=f"user:{seller.id}",
            failures=12,
            total_failures=12,
            window_started_at=T0,
            last_failure_at=at - timedelta(minutes=1),
        )
    )
    db.session.flush()
    answer = assess_registration(attempt(db.session, seller, 42, at))
    assert answer.decision == "hold" and answer.reasons[0].detector == "guessing"
    assert answer.reasons[0].evidence == {"who": "person", "refused": 12, "limit": 10}
    later = assess_registration(attempt(db.session, seller, 43, at + timedelta(hours=2)))
    assert later.decision == "accept"


def test_a_rejected_attempt_outlives_the_rollback_of_its_request(db, make):
    seller = make.user("seller")
    make.session.commit()
    answer = assess_registration(attempt(db.session, seller, 9, T0, is_canary=True))
    assert answer.decision == "reject"
    db.session.rollback()  # what the registration view does after a fraud refusal
    kept = db.session.query(FraudObservation).one()
    assert (kept.participant_id, kept.decision, kept.score) == (seller.id, "reject", 100)
    assert kept.reasons[0]["detector"] == "canary"


def test_night_is_read_on_the_shops_own_clock(db, make):
    """23:00 UTC is 02:00 in Moscow and 09:00 in Vladivostok: three codes in eight seconds are
    a night script in Moscow and a morning delivery by the Pacific."""
    at = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)
    sellers = {
        iso_code: make.user("seller", outlet=make.outlet(region=make.region(iso_code)))
        for iso_code in ("RU-MOW", "RU-PRI")
    }
    answers = {}
    for iso_code, seller in sellers.items():
        decisions = []
        for i in range(3):
            a = attempt(db.session, seller, seller.id * 1000 + i, at + timedelta(seconds=4 * i), ip=None)
            with force_locale("en"):
                answer = assess_registration(a)
            store(a, seller.id * 100 + i, answer)
            decisions.append(answer)
        answers[iso_code] = decisions
    moscow, vladivostok = answers["RU-MOW"], answers["RU-PRI"]
    assert [a.decision for a in moscow] == ["accept", "accept", "hold"]
    assert "3 codes within 8 seconds at night (02:00 local time)" in moscow[-1].reasons[0].message
    assert [a.decision for a in vladivostok] == ["accept"] * 3
