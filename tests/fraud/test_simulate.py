"""A small simulated world of honest trade and fraud, replayed: looser goals than the bench's,
so the test stays fast and stable (bench/bench_fraud.py holds the real ones)."""

from __future__ import annotations

import io
import json
from collections import Counter

from flask_babel import force_locale

from codes.scheme import scheme_from_setting
from fraud.replay import replay
from fraud.services import FraudConfig
from fraud.simulate import TradeParams, ensure_world, generate, shops_for


def test_a_small_world_of_honest_trade_is_mostly_accepted_and_fraud_mostly_held(app, db):
    params = TradeParams(late_share=0.25, neighbour_share=0.2, mobile_share=0.7, cgnat_pool=40)
    scheme = scheme_from_setting(app.config["CODE_KEYS"])
    world = ensure_world(db.session, shops=shops_for(8000, 21, params), seed=5, params=params)
    assert world.neighbours[0] and world.neighbours[2]  # Moscow and Saint Petersburg have their oblasts
    stream = io.StringIO()
    counts = generate(world, scheme, stream, events=8000, days=21, seed=5)
    assert counts["honest"] > 5000 and len(counts) >= 4
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    decisions = io.StringIO()
    with force_locale("en"):
        report = replay(
            db.session, iter(stream.getvalue().splitlines()), decisions, scheme=scheme, config=FraudConfig()
        )
    assert report.events == len(events) and not report.bad
    outcome: dict[str, Counter] = {}
    for event, line in zip(events, decisions.getvalue().splitlines(), strict=True):
        label = "slip" if event.get("slip") else event["label"]
        outcome.setdefault(label, Counter())[json.loads(line)["decision"]] += 1
    honest = outcome.pop("honest")
    outcome.pop("slip", None)
    fraud = sum(outcome.values(), Counter())
    assert (fraud["hold"] + fraud["reject"]) / fraud.total() >= 0.8
    assert honest["hold"] / honest.total() < 0.02
    assert honest["reject"] / honest.total() < 0.003
