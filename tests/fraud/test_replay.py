"""`flask fraud replay` and `flask fraud simulate` on small files."""

from __future__ import annotations

import json

from sqlalchemy import select

from codes.models import Batch, BatchStatus, Product
from codes.scheme import scheme_from_setting
from fraud.models import FraudObservation, ReviewCase
from partner_club.accounts.models import User


def world(make, app):
    region, other = (
        make.region(name_en="Tatarstan"),
        make.region(
            name_en="Kaliningrad",
            geometry=None,
            bbox="19.6,54.3,22.9,55.3",  # far: not a neighbour
        ),
    )
    shop = make.outlet(region=region, external_id="SHOP-1")
    make.outlet(region=other, external_id="SHOP-2", lat=54.7, lon=20.5)
    product = Product(sku="BAG", name="Bag", rule_value=10)
    make.session.add(product)
    make.session.flush()
    batches = {}
    for number, status, canary in (
        (11, BatchStatus.ACTIVATED, False),
        (12, BatchStatus.PRINTED, False),
        (13, BatchStatus.ACTIVATED, True),
    ):
        batches[number] = Batch(
            number=number,
            product_id=product.id,
            key_version=1,
            count=100000,
            region_id=region.id,
            status=status.value,
            is_canary=canary,
        )
        make.session.add(batches[number])
    make.session.commit()
    return scheme_from_setting(app.config["CODE_KEYS"]), shop


def line(i, code, *, minute=0, participant="P1", outlet="SHOP-1", **extra):
    event = {
        "id": f"e{i}",
        "ts": f"2026-03-02T10:{minute:02d}:00+03:00",
        "participant": participant,
        "outlet": outlet,
        "code": code,
        "channel": "typed",
        "ip": "10.0.0.1",
        "device": "phone-1",
    }
    event.update(extra)
    return json.dumps(event)


def test_replay_decides_every_good_line_and_names_every_bad_one(app, db, make, tmp_path):
    scheme, _shop = world(make, app)
    code = scheme.encode(11, 5)
    typo = code[:3] + ("0" if code[3] != "0" else "1") + code[4:]
    lines = [
        line(1, code, minute=1),
        line(2, code, minute=2, participant="P2"),  # the same code again
        "{not json",
        line(4, scheme.encode(12, 7), minute=3),  # a batch not shipped yet
        line(5, typo, minute=4),  # a typo
        json.dumps(
            {
                "id": "e6",
                "ts": "yesterday",
                "participant": "P1",
                "outlet": "SHOP-1",
                "code": code,
                "channel": "typed",
            }
        ),
        line(7, scheme.encode(11, 8), minute=5, outlet="NOWHERE"),
        line(8, scheme.encode(11, 9), minute=6, channel="fax"),
        line(9, "http://club.test/c/" + scheme.encode(13, 3), minute=0, channel="qr"),  # canary, earlier ts
        "",
        line(
            11, scheme.encode(11, 10), minute=7, outlet="SHOP-2", participant="P3", device="phone-3"
        ),  # shipped elsewhere
    ]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n")
    out = tmp_path / "decisions.jsonl"
    result = app.test_cli_runner().invoke(
        args=["fraud", "replay", str(events), "--out", str(out), "--record"]
    )
    assert result.exit_code == 1, result.output
    stderr = result.stderr
    assert "line 3: not valid JSON" in stderr
    assert "line 6: 'ts' is not an ISO 8601 time: 'yesterday'" in stderr
    assert "line 7: unknown outlet 'NOWHERE'" in stderr
    assert "line 8: 'channel' must be one of typed, qr, link, not 'fax'" in stderr
    assert "line 10: not valid JSON" in stderr
    assert "5 bad lines were not replayed" in stderr
    assert "6 events replayed" in result.stdout
    decisions = [json.loads(x) for x in out.read_text().splitlines()]
    assert [d["id"] for d in decisions] == ["e9", "e1", "e2", "e4", "e5", "e11"]  # in time order
    by_id = {d["id"]: d for d in decisions}
    assert by_id["e1"] == {"id": "e1", "decision": "accept", "score": 0, "reasons": []}
    assert by_id["e2"]["decision"] == "reject" and by_id["e2"]["reasons"][0]["detector"] == "duplicate"
    assert by_id["e4"]["reasons"][0]["detector"] == "batch_state"
    assert by_id["e5"]["reasons"][0] == {
        "detector": "code",
        "score": 90.0,
        "message": "The code is not valid: a typo caught by the check symbol.",
        "evidence": {"why": "bad_check_symbol"},
    }
    assert by_id["e9"]["decision"] == "reject" and by_id["e9"]["reasons"][0]["detector"] == "canary"
    geography = by_id["e11"]["reasons"][0]
    assert by_id["e11"]["decision"] == "hold"
    assert geography["message"] == "Batch shipped to Tatarstan, registered in Kaliningrad."
    people = db.session.scalars(select(User).where(User.login.in_(["P1", "P2", "P3"]))).all()
    assert {(p.login, p.role) for p in people} == {("P1", "seller"), ("P2", "seller"), ("P3", "seller")}
    assert {p.outlet.external_id for p in people} == {"SHOP-1", "SHOP-2"}
    assert db.session.query(FraudObservation).count() == 6
    assert db.session.query(ReviewCase).count() == 1


def test_simulate_writes_a_labelled_stream_that_replays_cleanly(app, db, tmp_path):
    events, out = tmp_path / "sim.jsonl", tmp_path / "dec.jsonl"
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["fraud", "simulate", "--events", "3000", "--days", "10", "--out", str(events)]
    )
    assert result.exit_code == 0, result.output
    labels = [json.loads(x)["label"] for x in events.read_text().splitlines()]
    assert "honest" in labels and len(set(labels)) >= 3
    result = runner.invoke(args=["fraud", "replay", str(events), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == len(labels)
