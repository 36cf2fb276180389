"""A stream of attempts decided live (through register_code) and by `fraud replay` alike."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from codes.normalize import CodeRejected
from codes.services import RegistrationContext, register_code
from fraud.models import FraudObservation
from partner_club.accounts.models import User
from tests.fraud.test_replay import line, world


def _stream(scheme) -> list[dict]:
    """Five accounts behind one address each send a typo, then a good code: from the fourth
    account on, the address has too many accounts with refused codes (the guessing rule)."""
    events = []
    for n in range(1, 6):
        good = scheme.encode(11, 100 + n)
        typo = good[:3] + ("0" if good[3] != "0" else "1") + good[4:]
        events.append(json.loads(line(2 * n, typo, minute=2 * n, participant=f"P{n}", device=f"phone-{n}")))
        events.append(
            json.loads(line(2 * n + 1, good, minute=2 * n + 1, participant=f"P{n}", device=f"phone-{n}"))
        )
    return events


def _decision(decision: str, reasons: list[dict] | None) -> tuple[str, list[str]]:
    return decision, sorted(reason["detector"] for reason in reasons or [])


def test_refusals_reach_fraud_live_and_decide_as_replay_does(app, db, make, tmp_path):
    scheme, _shop = world(make, app)
    events = _stream(scheme)
    stream = tmp_path / "events.jsonl"
    stream.write_text("\n".join(json.dumps(event) for event in events) + "\n")
    out = tmp_path / "decisions.jsonl"
    # Replay first: it records nothing, and creates the stream's people as sellers of the shop.
    result = app.test_cli_runner().invoke(args=["fraud", "replay", str(stream), "--out", str(out)])
    assert result.exit_code == 0, result.output
    replayed = [_decision(d["decision"], d["reasons"]) for d in map(json.loads, out.read_text().splitlines())]

    for event in events:
        person = db.session.scalar(select(User).where(User.login == event["participant"]))
        ctx = RegistrationContext(
            ip=event["ip"], device=event["device"], at=datetime.fromisoformat(event["ts"])
        )
        try:
            register_code(db.session, person, event["code"], channel="typed", ctx=ctx)
        except CodeRejected:
            pass
        db.session.commit()  # as the views commit a refusal's counter and fraud's record of it
    live = [
        _decision(o.decision, o.reasons)
        for o in db.session.scalars(
            select(FraudObservation).order_by(FraudObservation.at, FraudObservation.id)
        )
    ]
    assert live == replayed
    guessing = [decision for decision in live if "guessing" in decision[1]]
    assert len(guessing) == 2 and all(decision == "reject" for decision, _reasons in guessing)
    assert [decision for decision, _reasons in live[1::2]] == ["accept"] * 5
