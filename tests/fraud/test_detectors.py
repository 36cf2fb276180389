"""Each detector on a small hand-made history, through the engine both replay and live use."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_babel import force_locale

from fraud.history import DAY, HOUR, MemoryHistory, Observation, median_mad
from fraud.services import Engine, FraudConfig

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).timestamp()  # 12:00 in Moscow


def obs(ts: float, participant: int = 1, outlet: int | None = 10, **kw) -> Observation:
    values = dict(
        ts=ts,
        participant_id=participant,
        outlet_id=outlet,
        outlet_kind="shop",
        region_id=1,
        region_name=("Tatarstan", "Татарстан"),
        batch_id=5,
        batch_number=5,
        serial=None,
        batch_region_id=1,
        batch_shipped=True,
        ip="10.0.0.1",
        device=f"dev-{participant}",
        channel="qr",
    )
    values.update(kw)
    return Observation(**values)


def run(engine: Engine, observations):
    answers = []
    for o in observations:
        answers.append(engine.assess(o))
        engine.observe(o)
    return answers


@pytest.fixture
def engine(app):
    with app.app_context(), force_locale("en"):
        yield Engine(FraudConfig(), MemoryHistory())


def fired(assessment, name):
    return [r for r in assessment.reasons if r.detector == name]


def test_an_ordinary_registration_is_accepted(engine):
    answer = engine.assess(obs(T0, serial=100))
    assert (answer.decision, answer.score, answer.reasons) == ("accept", 0.0, [])


def test_duplicate_is_refused(engine):
    first, second = run(engine, [obs(T0, serial=7), obs(T0 + 600, participant=2, serial=7)])
    assert first.decision == "accept"
    assert second.decision == "reject" and fired(second, "duplicate")
    assert "already registered" in fired(second, "duplicate")[0].message


def test_guessing_per_person_and_spread_over_accounts(engine):
    misses = [obs(T0 + i * 30, failure="bad_check_symbol", batch_id=None, ip=f"ip{i}") for i in range(12)]
    answers = run(engine, misses)
    assert all(a.decision == "reject" for a in answers)  # an invalid code is always refused
    assert not fired(answers[9], "guessing") and fired(answers[10], "guessing")
    assert "11 refused codes by this person" in fired(answers[10], "guessing")[0].message
    spread = [
        obs(T0 + 2 * HOUR + i, participant=100 + i, failure="unknown_batch", batch_id=None, ip="6.6.6.6")
        for i in range(4)
    ]
    answers = run(engine, spread)
    assert not fired(answers[2], "guessing")
    assert "4 accounts on one address" in fired(answers[3], "guessing")[0].message
    # A genuine code right after a burst of guesses from the same person is held.
    valid_after = engine.assess(obs(T0 + 400, serial=55, ip="x"))
    assert valid_after.decision == "hold" and fired(valid_after, "guessing")


def test_canary_and_unshipped_batch_are_rejected(engine):
    canary = engine.assess(obs(T0, serial=3, is_canary=True))
    leak = engine.assess(obs(T0, serial=4, batch_shipped=False, batch_number=77))
    assert canary.decision == "reject" and "never printed" in canary.reasons[0].message
    assert leak.decision == "reject" and leak.reasons[0].message.startswith("Batch 77 was not shipped")


def test_velocity_against_the_shops_own_median(engine):
    history = []
    for day in range(20):  # three registrations a day, by different sellers, hours apart
        for k in range(3):
            history.append(
                obs(T0 - (20 - day) * DAY + k * 3 * HOUR, participant=k + 1, serial=1000 + day * 100 + k * 7)
            )
    run(engine, history)
    burst = [
        obs(T0 + i * 8, participant=50, device="d50", serial=5000 + 7 * i, channel="typed") for i in range(47)
    ]
    answers = run(engine, burst)
    flagged = [i for i, a in enumerate(answers) if fired(a, "velocity")]
    assert flagged and flagged[0] == 12  # 13 in an hour is over max(12, 3 * 4 / 4)
    assert fired(answers[46], "velocity")[0].message == "47 codes in 7 minutes; this shop's usual is 3 a day."


def test_velocity_of_a_new_shop_uses_similar_shops(engine):
    history = [
        obs(T0 - (10 - d) * DAY + k * HOUR, participant=200 + o, outlet=o, serial=d * 100 + k * 7 + o * 1000)
        for o in range(20, 25)
        for d in range(10)
        for k in range(2)
    ]
    history.sort(key=lambda o: o.ts)
    run(engine, history)
    med, _mad, shops = engine.history.peer_baseline("shop", int((T0 + 3 * HOUR) // DAY))
    assert (med, shops) == (2.0, 5)
    answers = run(
        engine, [obs(T0 + i * 100, participant=300, outlet=99, serial=90000 + 9 * i) for i in range(30)]
    )
    message = fired(answers[-1], "velocity")[0].message
    assert "similar shops' usual is 2 a day" in message


def test_sequence_of_a_label_roll(engine):
    answers = run(engine, [obs(T0 + i * 120, serial=10211 + i) for i in range(8)])
    assert not fired(answers[4], "sequence")
    assert fired(answers[5], "sequence")[0].message == "Serials 10211-10216 of batch 5 in a row (6 codes)."
    shuffled = run(
        engine,
        [obs(T0 + i * 120, participant=9, serial=s) for i, s in enumerate((20, 45, 31, 22, 40, 26, 35, 29))],
    )
    assert not any(fired(a, "sequence") for a in shuffled)


def test_geography(engine):
    answer = engine.assess(
        obs(
            T0,
            serial=1,
            batch_region_id=2,
            batch_region_name=("Tatarstan", "Татарстан"),
            region_id=3,
            region_name=("Kaliningrad", "Калининград"),
            lat=54.7,
            lon=20.5,
            outlet_lat=55.79,
            outlet_lon=49.12,
        )
    )
    reason = fired(answer, "geography")[0]
    assert reason.score == 75 and answer.decision == "hold"
    assert reason.message.startswith("Batch shipped to Tatarstan, registered in Kaliningrad; the device was")
    near = engine.assess(obs(T0, serial=2, lat=55.8, lon=49.1, outlet_lat=55.79, outlet_lon=49.12))
    assert not fired(near, "geography")


def test_shared_device_across_accounts_and_shops(engine):
    farm = [
        obs(T0 + i * 600, participant=400 + i, outlet=40, device="farm", ip=f"ip{i}", serial=700 + 13 * i)
        for i in range(5)
    ]
    answers = run(engine, farm)
    assert not fired(answers[2], "shared_identity")  # a shop's shared tablet: three sellers are fine
    assert (
        "one device used by 4 accounts of 1 shop this week"
        in fired(answers[3], "shared_identity")[0].message.lower()
    )
    other_shop = engine.assess(obs(T0 + HOUR, participant=401, outlet=41, device="farm", serial=900))
    assert fired(other_shop, "shared_identity")[0].evidence == {"device": {"accounts": 5, "shops": 2}}


def test_night_burst_and_inhuman_speed(engine):
    night = T0 - 10 * HOUR  # 02:00 in Moscow
    answers = run(engine, [obs(night + i * 300, serial=100 + 17 * i) for i in range(5)])
    assert not fired(answers[3], "time") and "at night (02:00" in fired(answers[4], "time")[0].message
    typed = run(
        engine, [obs(T0 + i * 1.5, participant=2, channel="typed", serial=300 + 11 * i) for i in range(4)]
    )
    assert not fired(typed[2], "time")
    assert "faster than a person can type" in fired(typed[3], "time")[0].message


def test_disabled_detector_and_own_thresholds(app):
    config = FraudConfig()
    config.enabled["canary"] = False
    config.params["geography"]["region_score"] = 95
    with app.app_context(), force_locale("en"):
        engine = Engine(config, MemoryHistory())
        assert engine.assess(obs(T0, serial=1, is_canary=True)).decision == "accept"
        assert engine.assess(obs(T0, serial=2, batch_region_id=9)).decision == "reject"


def test_median_and_mad_ignore_one_wild_day():
    assert median_mad([3, 2, 4, 3, 90, 3, 2]) == (3.0, 1.0)
