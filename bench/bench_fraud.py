"""Fraud rules on several simulated worlds of honest trade and fraud, world by world.

    .venv/bin/python bench/bench_fraud.py                  # six worlds of ~25,000 events, ~3 minutes
    .venv/bin/python bench/bench_fraud.py --events 100000 --worlds base,cgnat

Each world is its own throw-away SQLite database, seed and `TradeParams`
(fraud/simulate.py): the base world the rules were tuned on, and worlds they
were not tuned on (heavy carrier-grade NAT, many late joiners, big seasonal
pallets, strong neighbour supply, small frequent deliveries sold one by one).
The stream is replayed exactly as `flask fraud replay` does, and per world the
bench prints the recall per fraud pattern, the share of honest registrations
held and rejected (typos and second presses, refused as they should be, are
counted apart), and the review load: held cases a day scaled to 5,000 shops,
per reviewer at one reviewer per 1,000 shops (five), a case taking a minute or two.

Goals on every world: >= 90% of fraudulent registrations held or rejected,
< 1% of honest registrations held, < 0.1% rejected.
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
from fraud.replay import replay
from fraud.services import FraudConfig
from fraud.simulate import WORLDS, TradeParams, ensure_world, generate, shops_for
from partner_club import create_app
from partner_club.extensions import db

SHOPS_SCALE = 5000
REVIEWERS = 5  # one reviewer per 1,000 shops


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=25000, help="about this many events per world")
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--worlds", default=",".join(WORLDS), help="comma-separated: " + ", ".join(WORLDS))
    parser.add_argument("--seed-shift", type=int, default=0, help="add this to every world's seed")
    args = parser.parse_args()
    results = {}
    for name in args.worlds.split(","):
        seed, params, _tuned = WORLDS[name]
        results[name] = run_world(name, seed + args.seed_shift, params, events=args.events, days=args.days)
    print("\nsummary (simulated worlds; goals: fraud caught >= 90%, honest held < 1%, rejected < 0.1%)")
    print(
        f"{'world':<12}{'tuned':>6}{'fraud':>8}{'caught':>8}{'honest':>8}{'held':>8}{'rejected':>9}{'cases/rev/day':>14}"
    )
    for name, r in results.items():
        print(
            f"{name:<12}{'yes' if WORLDS[name][2] else 'no':>6}{r['fraud']:>8}{r['caught']:>8.1%}{r['honest']:>8}"
            f"{r['held']:>8.2%}{r['rejected']:>9.2%}{r['per_reviewer']:>14.1f}{r['honest_per_reviewer']:>8.1f}"
            + ("" if r["ok"] else "  MISSED")
        )


def run_world(name: str, seed: int, params: TradeParams, *, events: int, days: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-fraud-{name}-"))
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.sqlite3'}", "CODE_KEYS": "1:" + "3c" * 32}
    )
    events_path, decisions_path = workdir / "events.jsonl", workdir / "decisions.jsonl"
    started = time.perf_counter()
    with app.app_context():
        db.create_all()
        scheme = scheme_from_setting(app.config["CODE_KEYS"])
        world = ensure_world(db.session, shops=shops_for(events, days, params), seed=seed, params=params)
        db.session.commit()
        with events_path.open("w") as out:
            generate(world, scheme, out, events=events, days=days, seed=seed)
        with events_path.open() as lines, decisions_path.open("w") as out, force_locale("en"):
            report = replay(db.session, lines, out, scheme=scheme, config=FraudConfig())
        db.session.rollback()
    print(
        f"\n== world {name} (seed {seed}; {len(world.shops)} shops, {days} days; {report.events} events "
        f"in {time.perf_counter() - started:.0f} s) ==\n   {params}",
        flush=True,
    )
    return summarize(events_path, decisions_path, shops=len(world.shops), days=days)


def summarize(events_path: Path, decisions_path: Path, *, shops: int, days: int) -> dict:
    labels = {}
    with events_path.open() as lines:
        for line in lines:
            event = json.loads(line)
            labels[event["id"]] = "slip" if event.get("slip") else event["label"]
    outcome: dict[str, Counter] = defaultdict(Counter)
    honest_by: Counter = Counter()
    examples: dict[str, str] = {}
    with decisions_path.open() as lines:
        for line in lines:
            decision = json.loads(line)
            label = labels[decision["id"]]
            outcome[label][decision["decision"]] += 1
            if label == "honest" and decision["decision"] != "accept":
                for reason in decision["reasons"]:
                    honest_by[reason["detector"]] += 1
                    examples.setdefault(reason["detector"], reason["message"])
    print(f"   {'pattern':<12}{'events':>8}{'accept':>8}{'hold':>7}{'reject':>8}{'caught':>8}")
    fraud = Counter()
    for label in sorted(outcome, key=lambda k: (k in ("honest", "slip"), k)):
        c = outcome[label]
        total = sum(c.values())
        print(
            f"   {label:<12}{total:>8}{c['accept']:>8}{c['hold']:>7}{c['reject']:>8}"
            f"{(c['hold'] + c['reject']) / total:>8.1%}"
        )
        if label not in ("honest", "slip"):
            fraud.update(c)
    honest = outcome["honest"]
    n_honest, n_fraud = sum(honest.values()) or 1, sum(fraud.values()) or 1
    caught = (fraud["hold"] + fraud["reject"]) / n_fraud
    held, rejected = honest["hold"] / n_honest, honest["reject"] / n_honest
    all_held = sum(c["hold"] for c in outcome.values())
    per_day = all_held / days / shops * SHOPS_SCALE
    honest_per_day = honest["hold"] / days / shops * SHOPS_SCALE
    ok = caught >= 0.9 and held < 0.01 and rejected < 0.001
    print(
        f"   fraud held or rejected {caught:.1%} (>= 90%); honest held {held:.2%} (< 1%), "
        f"rejected {rejected:.3%} (< 0.1%): {'OK' if ok else 'MISSED'}"
    )
    print(
        f"   review load at {SHOPS_SCALE} shops: {per_day:.0f} held cases a day ({honest_per_day:.0f} of them "
        f"honest), {per_day / REVIEWERS:.1f} per reviewer a day with {REVIEWERS} reviewers"
    )
    if honest_by:
        print(
            "   honest held or rejected by rule: " + ", ".join(f"{k} {v}" for k, v in honest_by.most_common())
        )
        for detector, message in examples.items():
            print(f"     e.g. {detector}: {message}")
    return {
        "fraud": n_fraud,
        "caught": caught,
        "honest": n_honest,
        "held": held,
        "rejected": rejected,
        "per_reviewer": per_day / REVIEWERS,
        "honest_per_reviewer": honest_per_day / REVIEWERS,
        "ok": ok,
    }


if __name__ == "__main__":
    main()
