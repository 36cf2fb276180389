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


def deliveries(outlet: int, days: int, size: int, *, first_serial: int, every: int = 3, kind: str = "shop"):
    """A shop's past deliveries: every few days a run of `size` consecutive serials, registered
    by one seller at unpacking pace (20 s a package)."""
    serial, history = first_serial, []
    for day in range(0, days, every):
        start = T0 - (days - day) * DAY
        for i in range(size):
            history.append(
                obs(
                    start + i * 20,
                    participant=outlet * 10,
                    outlet=outlet,
                    outlet_kind=kind,
                    serial=serial + i,
                )
            )
        serial += size + 500
    return history


def test_velocity_against_the_shops_busy_day(engine):
    run(engine, deliveries(10, 21, 20, first_serial=1000))
    burst = [obs(T0 + i * 20, participant=50, device="d50", serial=500000 + 977 * i) for i in range(60)]
    answers = run(engine, burst)
    flagged = [i for i, a in enumerate(answers) if fired(a, "velocity")]
    assert flagged and flagged[0] == 50  # 2.5 times its busy day of 20
    assert fired(answers[59], "velocity")[0].message == (
        "60 codes in 20 minutes, more than this shop may register in a day (50): this shop's busiest day "
        "of the last four weeks was 20, similar shops' 20."
    )


def test_velocity_of_a_new_shop_uses_similar_shops(engine):
    history = sorted(
        (o for shop in range(20, 25) for o in deliveries(shop, 12, 12, first_serial=shop * 100000)),
        key=lambda o: o.ts,
    )
    run(engine, history)
    med, _mad, shops = engine.history.peer_baseline("shop", int((T0 + 3 * HOUR) // DAY))
    assert (med, shops) == (12.0, 5)
    answers = run(
        engine, [obs(T0 + i * 30, participant=300, outlet=99, serial=9000000 + 977 * i) for i in range(31)]
    )
    assert not fired(answers[29], "velocity")  # the floor: 30 a day
    assert "the shop is new; similar shops' busiest day is 12" in fired(answers[30], "velocity")[0].message


def test_a_new_shops_first_delivery_is_accepted(engine):
    run(
        engine,
        sorted(
            (o for s in range(20, 25) for o in deliveries(s, 14, 40, first_serial=s * 100000)),
            key=lambda o: o.ts,
        ),
    )
    first = [obs(T0 + i * 15, participant=77, outlet=77, serial=3000000 + i) for i in range(45)]
    assert all(a.decision == "accept" for a in run(engine, first))


def test_a_delivery_run_at_unpacking_pace_is_accepted(engine):
    run(engine, deliveries(10, 21, 40, first_serial=1000))
    pallet = [obs(T0 + i * 12, participant=100, serial=900000 + i) for i in range(40)]
    answers = run(engine, pallet)
    assert all(a.decision == "accept" for a in answers), [a.reasons for a in answers if a.reasons][:1]


def test_a_roll_of_labels_at_machine_pace_is_held(engine):
    run(engine, deliveries(10, 21, 40, first_serial=1000))
    roll = [obs(T0 + i * 2, participant=100, serial=10211 + i) for i in range(400)]
    answers = run(engine, roll)
    held = [i for i, a in enumerate(answers) if a.decision != "accept"]
    assert held[0] == 9 and len(held) == 391
    assert fired(answers[9], "sequence")[0].message == (
        "Serials 10211-10220 of batch 5 in a row (10 codes), 10 of them within 18 seconds: "
        "faster than packages can be unpacked."
    )


def test_a_roll_longer_than_any_delivery_is_held_even_at_a_human_pace(engine):
    run(engine, deliveries(10, 21, 40, first_serial=1000))
    roll = [obs(T0 + i * 30, participant=100, serial=10211 + i) for i in range(170)]
    answers = run(engine, roll)
    assert not fired(answers[159], "sequence")  # four times its biggest delivery day of 40
    assert "longer than any delivery this shop or similar shops get (up to 160)" in (
        fired(answers[160], "sequence")[0].message
    )
    shuffled = run(
        engine,
        [obs(T0 + i * 120, participant=9, serial=s) for i, s in enumerate((20, 45, 31, 22, 40, 26, 35, 29))],
    )
    assert not any(fired(a, "sequence") for a in shuffled)


def test_neighbouring_region_is_accepted_a_far_one_held(engine):
    engine.history.neighbours = frozenset({frozenset((1, 2))})
    spb = ("Saint Petersburg", "Санкт-Петербург")
    batch = [
        obs(
            T0 + i * 20,
            serial=500 + i,
            region_id=1,
            region_name=("Leningrad", "Ленинградская область"),
            batch_region_id=2,
            batch_region_name=spb,
        )
        for i in range(30)
    ]
    answers = run(engine, batch)
    assert all(a.decision == "accept" for a in answers)
    assert fired(answers[0], "geography")[0].message == (
        "Batch shipped to Saint Petersburg, registered in Leningrad (a neighbouring region)."
    )
    far = [
        obs(T0 + HOUR + i * 60, participant=3, serial=s, batch_region_id=7)
        for i, s in enumerate((91234, 5512, 770001))
    ]
    assert all(a.decision == "hold" and fired(a, "geography") for a in run(engine, far))


def test_carrier_nat_address_shared_by_strangers_is_accepted(engine):
    strangers = [
        obs(
            T0 + i * 300,
            participant=500 + i,
            outlet=50 + i,
            device=f"phone-{i}",
            ip="100.64.0.1",
            serial=7000 + 1000 * i,
        )
        for i in range(10)
    ]
    answers = run(engine, strangers)
    assert all(a.decision == "accept" and not a.reasons for a in answers)


def test_one_device_behind_accounts_of_many_shops_is_held(engine):
    farm = [
        obs(
            T0 + i * 300,
            participant=500 + i,
            outlet=50 + i,
            device="farm",
            ip="100.64.0.1",
            serial=7000 + 1000 * i,
        )
        for i in range(10)
    ]
    answers = run(engine, farm)
    assert answers[0].decision == "accept"
    assert all(a.decision == "hold" for a in answers[1:])
    assert "one device used by 10 accounts of 10 shops this week" in answers[9].reasons[0].message.lower()


def test_staff_sharing_the_shops_phone_is_accepted(engine):
    staff = [
        obs(T0 + i * 600, participant=400 + i % 5, outlet=40, device="shop-phone", serial=700 + 13 * i)
        for i in range(20)
    ]
    assert all(a.decision == "accept" for a in run(engine, staff))


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
    tablet = [
        obs(T0 + i * 600, participant=400 + i, outlet=40, device="tablet", ip=f"ip{i}", serial=700 + 13 * i)
        for i in range(9)
    ]
    answers = run(engine, tablet)
    assert not fired(answers[6], "shared_identity")  # a shop's shared tablet: seven sellers are fine
    assert (
        "one device used by 8 accounts of 1 shop this week"
        in fired(answers[7], "shared_identity")[0].message.lower()
    )
    other_shop = engine.assess(obs(T0 + HOUR, participant=401, outlet=41, device="tablet", serial=900))
    assert fired(other_shop, "shared_identity")[0].evidence == {"device": {"accounts": 9, "shops": 2}}


def test_night_burst_and_inhuman_speed(engine):
    night = T0 - 10 * HOUR  # 02:00 in Moscow
    answers = run(engine, [obs(night + i * 300, serial=100 + 17 * i) for i in range(5)])
    assert not fired(answers[3], "time") and "at night (02:00" in fired(answers[4], "time")[0].message
    typed = run(
        engine, [obs(T0 + i * 1.5, participant=2, channel="typed", serial=300 + 11 * i) for i in range(4)]
    )
    assert not fired(typed[2], "time")
    assert "faster than a person can type" in fired(typed[3], "time")[0].message


def test_machine_pace_at_night_is_held_from_the_third_code(engine):
    night = T0 - 10 * HOUR  # 02:00 in Moscow
    bot = run(engine, [obs(night + i * 4, serial=100 + 7919 * i) for i in range(3)])
    assert not fired(bot[1], "time") and bot[2].decision == "hold"
    assert fired(bot[2], "time")[0].message == (
        "3 codes within 8 seconds at night (02:00 local time): faster than a person registers packages."
    )
    # A person unpacking at night at a human pace, and a fast delivery by day, are not held by it.
    late = run(engine, [obs(night + 600 + i * 15, participant=2, serial=5000 + i) for i in range(4)])
    day = run(engine, [obs(T0 + i * 4, participant=3, serial=9000 + i) for i in range(4)])
    assert not any(fired(a, "time") for a in late + day)


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


def test_codes_scattered_over_a_batch_are_held_a_shops_few_pallets_are_not(engine):
    pallets = [
        obs(T0 + i * 900, participant=8, serial=s)
        for i, s in enumerate([*range(100, 105), *range(7000, 7005), *range(50000, 50004)])
    ]
    assert not any(fired(a, "scatter") for a in run(engine, pallets))
    bought = [obs(T0 + i * 30, participant=9, serial=1 + 7919 * i * i) for i in range(10)]
    answers = run(engine, bought)
    assert not fired(answers[6], "scatter") and answers[7].decision == "hold"
    assert fired(answers[9], "scatter")[0].message == (
        "This person's last 9 codes of batch 5 lie in 9 far-apart places: not the runs a delivery brings."
    )


def test_bought_codes_split_over_a_shops_accounts_are_held_within_the_hour(engine):
    # Four accounts of one shop, two scattered codes each: no person reaches nine codes.
    spike = [
        obs(T0 + i * 60, participant=20 + i % 4, serial=1 + 7919 * i * i, device=f"phone-{i % 4}")
        for i in range(9)
    ]
    answers = run(engine, spike)
    assert not any(fired(a, "scatter") for a in answers[:7]) and answers[7].decision == "hold"
    assert fired(answers[8], "scatter")[0].message == (
        "The shop's last 9 codes of batch 5 within an hour, registered by several of its people, lie "
        "in 9 far-apart places: not the runs a delivery brings."
    )
    # The shop's next delivery, two hours on, is judged on its own serials: not held.
    delivery = run(engine, [obs(T0 + 3 * HOUR + i * 20, participant=21, serial=20000 + i) for i in range(12)])
    assert not any(fired(a, "scatter") for a in delivery)
    # Several shops' people registering their own runs within the hour are not one shop's spike.
    others = [
        obs(T0 + 5 * HOUR + i * 60, participant=40 + i, outlet=60 + i, serial=1 + 7919 * i * i)
        for i in range(9)
    ]
    assert not any(fired(a, "scatter") for a in run(engine, others))


def test_a_shop_with_a_history_is_compared_with_shops_of_its_size(engine):
    kiosks = [o for shop in range(20, 25) for o in deliveries(shop, 21, 20, first_serial=shop * 100000)]
    yards = [o for shop in range(30, 35) for o in deliveries(shop, 21, 200, first_serial=shop * 100000)]
    run(engine, sorted(kiosks + yards, key=lambda o: o.ts))
    day = int((T0 + 3 * HOUR) // DAY)
    assert engine.history.usual_day(20, ("shop", 1), day) == (20.0, 20.0, "own")
    assert engine.history.usual_day(30, ("shop", 1), day) == (200.0, 200.0, "own")
    # A new shop's size is not known yet: it is compared with all its peers (median 110, MAD 90).
    usual, peers, basis = engine.history.usual_day(99, ("shop", 1), day)
    assert (basis, usual) == ("peers", peers) and round(peers) == round(110 + 2 * 1.4826 * 90)
    # So a kiosk may register 2.5 times a kiosk's busy day, not a yard's.
    burst = [
        obs(T0 + i * 20, participant=50, outlet=20, device="d50", serial=900000 + 977 * i) for i in range(52)
    ]
    answers = run(engine, burst)
    assert next(i for i, a in enumerate(answers) if fired(a, "velocity")) == 50


def test_a_code_sent_long_after_it_was_read_is_held(engine):
    """A phone's queue gives the reading time, which the pace and night rules trust: one sent
    more than two days later is held with the hours named."""
    late = engine.assess(obs(T0 - 50 * HOUR, serial=300, sent_ts=T0))
    assert late.decision == "hold"
    assert fired(late, "late_scan")[0].message == (
        "Read 50 hours before it was sent: longer than a phone usually waits for a connection."
    )
    for ordinary in (obs(T0 - 47 * HOUR, serial=301, sent_ts=T0), obs(T0, serial=302)):
        assert not fired(engine.assess(ordinary), "late_scan")
    # With another rule that holds (a batch from a far region, 50), it still only holds.
    far = engine.assess(
        obs(
            T0 - 50 * HOUR,
            serial=303,
            sent_ts=T0,
            batch_region_id=2,
            batch_region_name=("Kaliningrad", "Калининград"),
        )
    )
    assert fired(far, "geography") and fired(far, "late_scan")
    assert far.score >= 90 and far.decision == "hold"
