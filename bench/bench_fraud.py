"""Fraud detectors on a simulated, labelled stream: precision, recall, speed.

    .venv/bin/python bench/bench_fraud.py                 # 100k events, a few minutes at most
    .venv/bin/python bench/bench_fraud.py --events 1000000

Builds a throw-away SQLite database (or --database URL), simulates shops and
fraud patterns (fraud/simulate.py), replays the stream exactly as
`flask fraud replay` does, and prints, per detector, its precision (share of
the events it flagged that were fraud) and recall (share of the events of
the pattern it is meant for that it flagged), then the goals: fraud held or
rejected >= 90%, honest held < 1%.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_babel import force_locale

from codes.scheme import scheme_from_setting
from fraud.detectors import DETECTORS
from fraud.replay import replay
from fraud.services import FraudConfig
from fraud.simulate import ensure_world, generate, shops_for
from partner_club import create_app
from partner_club.extensions import db

# The pattern each detector is meant to catch (recall is measured on it).
TARGET = {
    "duplicate": "duplicate",
    "guessing": "guessing",
    "canary": "canary",
    "velocity": "velocity",
    "sequence": "roll",
    "geography": "cross_region",
    "batch_state": "leak",
    "shared_identity": "device_farm",
    "time": "night_burst",
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100000)
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-fraud-"))
    url = args.database or f"sqlite:///{workdir / 'bench.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CODE_KEYS": "1:" + "3c" * 32})
    events_path, decisions_path = workdir / "events.jsonl", workdir / "decisions.jsonl"
    with app.app_context():
        db.create_all()
        scheme = scheme_from_setting(app.config["CODE_KEYS"])
        started = time.perf_counter()
        world = ensure_world(db.session, shops=shops_for(args.events, args.days), seed=args.seed)
        db.session.commit()
        with events_path.open("w") as out:
            counts = generate(world, scheme, out, events=args.events, days=args.days, seed=args.seed)
        print(
            f"simulated {sum(counts.values())} events from {len(world.shops)} shops "
            f"in {time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
            flush=True,
        )
        cpu = time.process_time()
        with events_path.open() as lines, decisions_path.open("w") as out, force_locale("en"):
            report = replay(db.session, lines, out, scheme=scheme, config=FraudConfig())
        db.session.commit()
        cpu = time.process_time() - cpu
        print(
            f"replayed {report.events} events in {report.seconds:.1f} s ({report.rate:.0f} events/s; "
            f"{cpu:.1f} s of CPU, {report.events / max(cpu, 1e-9):.0f} events per CPU second), "
            f"{report.people_created} people created, {len(report.bad)} bad lines",
            flush=True,
        )
    summarize(events_path, decisions_path)


def summarize(events_path: Path, decisions_path: Path) -> None:
    labels = {}
    with events_path.open() as lines:
        for line in lines:
            event = json.loads(line)
            labels[event["id"]] = event["label"]
    outcome: dict[str, Counter] = defaultdict(Counter)
    flagged: dict[str, Counter] = defaultdict(Counter)
    honest_held_by: Counter = Counter()
    with decisions_path.open() as lines:
        for line in lines:
            decision = json.loads(line)
            label = labels[decision["id"]]
            outcome[label][decision["decision"]] += 1
            for reason in decision["reasons"]:
                flagged[reason["detector"]][label] += 1
                if label == "honest" and decision["decision"] == "hold":
                    honest_held_by[reason["detector"]] += 1
    totals = {label: sum(c.values()) for label, c in outcome.items()}
    print(f"\n{'detector':<16}{'flagged':>9}{'precision':>11}{'recall':>9}  (recall on pattern)")
    for name in DETECTORS:
        hits = flagged.get(name, Counter())
        n = sum(hits.values())
        precision = (n - hits.get("honest", 0)) / n if n else float("nan")
        target = TARGET[name]
        recall = hits.get(target, 0) / totals[target] if totals.get(target) else float("nan")
        print(f"{name:<16}{n:>9}{precision:>11.1%}{recall:>9.1%}  ({target})")
    print(f"\n{'label':<14}{'events':>8}{'accept':>9}{'hold':>8}{'reject':>8}{'caught':>9}")
    for label in sorted(outcome, key=lambda k: (k == "honest", k)):
        c = outcome[label]
        caught = (c["hold"] + c["reject"]) / totals[label]
        print(f"{label:<14}{totals[label]:>8}{c['accept']:>9}{c['hold']:>8}{c['reject']:>8}{caught:>9.1%}")
    fraud = Counter()
    for label, c in outcome.items():
        if label != "honest":
            fraud.update(c)
    fraud_total = sum(fraud.values())
    honest = outcome.get("honest", Counter())
    honest_total = sum(honest.values()) or 1
    caught = (fraud["hold"] + fraud["reject"]) / fraud_total if fraud_total else float("nan")
    held = honest["hold"] / honest_total
    print(f"\nfraud held or rejected: {caught:.1%} (goal >= 90%) {'OK' if caught >= 0.9 else 'MISSED'}")
    print(
        f"honest held: {held:.2%} (goal < 1%) {'OK' if held < 0.01 else 'MISSED'}; "
        f"honest rejected: {honest['reject'] / honest_total:.2%} (typos and second presses of a code)"
    )
    if honest_held_by:
        print("honest holds by detector: " + ", ".join(f"{k} {v}" for k, v in honest_held_by.most_common()))


if __name__ == "__main__":
    main()
