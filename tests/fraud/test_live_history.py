"""The live history: what it reads ahead for an attempt, and when an attempt is stored."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from fraud.history import DAY, HOUR, MemoryHistory, Observation, local_day
from fraud.live_history import DbHistory, forget_cached
from fraud.models import FraudObservation, ReviewCase
from fraud.services import Engine, FraudConfig, store_observation
from partner_club.signals import Assessment, assess_registration
from tests.fraud.helpers import attempt
from tests.registrations import store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def answers(history, o: Observation) -> dict:
    """Every question a detector may ask about `o`."""
    day = local_day(o.ts, history.utc_offset_hours)
    found = {
        "failed": [
            history.failed(kind, key, o.ts)
            for kind, key in (("participant", o.participant_id), ("ip", o.ip), ("device", o.device))
        ],
        "failed_accounts": history.failed_accounts("ip", o.ip, o.ts),
        "accounts": [
            history.accounts(kind, key, o.ts, o.participant_id, o.outlet_id)
            for kind, key in (("ip", o.ip), ("device", o.device))
        ],
        "outlet_days": history.outlet_days(o.outlet_id, day),
        "last_of": history.last_of(o.participant_id),
    }
    for kind, key in (("participant", o.participant_id), ("outlet", o.outlet_id)):
        for seconds in (HOUR, DAY):
            found[(kind, seconds)] = (
                history.count(kind, key, o.ts, seconds),
                history.count(f"{kind}_all", key, o.ts, seconds),
                history.first_ts(f"{kind}_all", key, o.ts, seconds),
            )
    if o.batch_id is not None:
        found["registered"] = history.is_registered(o.batch_id, o.serial)
        found["recent"] = list(history.recent_in_batch(o.participant_id, o.batch_id))
        if o.outlet_id is not None:
            found["shop_recent"] = list(history.recent_in_shop_batch(o.outlet_id, o.batch_id, o.ts))
    found["night_pace"] = history.count("participant_all", o.participant_id, o.ts, 24)
    return found


def test_what_is_read_ahead_answers_like_single_questions_and_like_memory(db, make):
    rng = random.Random(11)
    sellers = [make.user("seller") for _ in range(4)]
    for s in sellers[1:3]:
        s.outlet_id = sellers[0].outlet_id
    db.session.flush()
    memory = MemoryHistory()
    engine = Engine(FraudConfig(), memory)
    t = T0.timestamp() - 12 * 86400
    for i in range(260):
        t += rng.choice([1, 40, 300, 2000, 9000, 30000])
        s = rng.choice(sellers)
        failure = "bad_check_symbol" if rng.random() < 0.15 else None
        o = Observation(
            ts=t,
            participant_id=s.id,
            outlet_id=s.outlet_id,
            outlet_kind="shop",
            channel=rng.choice(["typed", "qr"]),
            ip=rng.choice(["a", "b", None]),
            device=rng.choice(["d1", "d2", f"d{s.id}"]),
            failure=failure,
            batch_id=None if failure else rng.choice([3, 4]),
            batch_number=3,
            serial=None if failure else rng.randint(1, 40),
            batch_region_id=1,
            region_id=1,
            batch_shipped=True,
        )
        if i % 5 == 0:
            ahead = DbHistory(db.session)
            ahead.expect(o)
            expected = answers(memory, o)
            assert answers(ahead, o) == expected, i
            forget_cached()
            assert answers(DbHistory(db.session), o) == expected, i
        assessment = engine.assess(o)
        engine.observe(o)
        store_observation(db.session, o, assessment)
    assert {o.decision for o in db.session.query(FraudObservation)} >= {"accept", "hold", "reject"}


def test_an_accepted_attempt_is_stored_once_its_registration_is(db, make):
    seller = make.user("seller")
    first = attempt(db.session, seller, 7, T0)
    answer = assess_registration(first)
    assert answer.decision == "accept"
    assert db.session.query(FraudObservation).count() == 0
    store(first, 501, answer)
    row = db.session.query(FraudObservation).one()
    assert (row.registration_id, row.decision, row.serial, row.run_length) == (501, "accept", 7, 1)

    # A parallel request took the code: codes records nothing, fraud keeps nothing.
    lost = attempt(db.session, seller, 8, T0 + timedelta(minutes=1))
    assert assess_registration(lost).decision == "accept"
    following = attempt(db.session, seller, 9, T0 + timedelta(minutes=2))
    store(following, 503, assess_registration(following))
    assert [
        (r.serial, r.run_length) for r in db.session.query(FraudObservation).order_by(FraudObservation.id)
    ] == [(7, 1), (9, 2)]


def test_a_held_registration_opens_its_case_with_the_registration(db, make):
    # Far from the seller's region (the factory's regions all share one square: neighbours).
    shipped_to = make.region(name_en="Tatarstan", name_ru="Татарстан", geometry=None, bbox="20,54,22,55.5")
    seller = make.user("seller")
    held = attempt(db.session, seller, 7, T0, batch_region_id=shipped_to.id)
    answer = assess_registration(held)
    assert answer.decision == "hold"
    assert answer.reasons[0].evidence["shipped_to"] == ["Tatarstan", "Татарстан"]
    assert answer.reasons[0].evidence["registered_in"] == [
        seller.outlet.region.name_en,
        seller.outlet.region.name_ru,
    ]
    store(held, 601, answer)
    row, case = db.session.query(FraudObservation).one(), db.session.query(ReviewCase).one()
    assert (row.decision, row.registration_id) == ("hold", 601)
    assert (case.observation_id, case.registration_id, case.status) == (row.id, 601, "open")


def test_a_shops_usual_day_sees_an_earlier_day_stored_later(db, make):
    seller = make.user("seller")
    accept = Assessment("accept")
    for days_ago in range(1, 9):
        for n in range(days_ago % 3 + 1):
            at = T0.timestamp() - days_ago * DAY + n * 60
            store_observation(
                db.session, Observation(ts=at, participant_id=seller.id, outlet_id=seller.outlet_id), accept
            )
    history = DbHistory(db.session)
    today = local_day(T0.timestamp())
    assert history.outlet_days(seller.outlet_id, today) == [3, 2, 1, 3, 2, 1, 3, 2]
    store_observation(
        db.session,
        Observation(ts=T0.timestamp() - 2 * DAY + 3600, participant_id=seller.id, outlet_id=seller.outlet_id),
        accept,
    )
    assert DbHistory(db.session).outlet_days(seller.outlet_id, today) == [3, 2, 1, 3, 2, 1, 4, 2]
