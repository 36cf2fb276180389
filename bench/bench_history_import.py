"""`registrations import`: past registrations per second.

    .venv/bin/python bench/bench_history_import.py                 # 20k lines on SQLite
    .venv/bin/python bench/bench_history_import.py --lines 50000 --database postgresql://postgres@127.0.0.1:5432/test

Builds a throw-away world (one region, --shops shops, one product, one batch
shipped a year ago), writes a JSON-lines file of --lines registrations in the
replay's format spread over --people people, and imports it without the
fraud rules (`--fraud` to include them), committing per chunk as the command
does. With --database pointing at a PostgreSQL server, it works in a fresh
database of its own on that server, dropped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from codes import history_import, issuing, services
from codes.models import BatchStatus
from partner_club import create_app
from partner_club.extensions import db
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region
from partner_club.testing import temporary_postgres_database


def build_world(session, shops: int, lines: int):
    region = Region(iso_code="RU-TA", country="RU", name_en="Tatarstan", name_ru="Татарстан")
    session.add(region)
    session.flush()
    session.add_all(Outlet(external_id=f"S{n}", name=f"Shop {n}", region_id=region.id) for n in range(shops))
    product = issuing.save_product(
        session,
        sku="BENCH-1",
        name="Bench paint",
        kind="paint",
        package="bucket",
        volume_m3=0.01,
        points="25",
    )
    batch = issuing.issue_batch(session, product, lines + 10)
    batch.status = BatchStatus.ACTIVATED.value
    batch.activated_at = datetime.now(UTC) - timedelta(days=400)
    session.commit()
    return batch


def write_events(path: Path, batch, lines: int, shops: int, people: int) -> None:
    start = datetime.now(UTC) - timedelta(days=365)
    with path.open("w", encoding="utf-8") as out:
        for n in range(1, lines + 1):
            person = n % people
            event = {
                "id": f"e{n}",
                "ts": (start + timedelta(seconds=600 * n)).isoformat(),
                "participant": f"bench-person-{person}",
                "outlet": f"S{person % shops}",
                "code": services.batch_code(batch, n),
                "channel": "typed",
            }
            out.write(json.dumps(event) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--shops", type=int, default=200)
    parser.add_argument("--people", type=int, default=600)
    parser.add_argument("--fraud", action="store_true")
    parser.add_argument("--database", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        url = args.database or f"sqlite:///{tmp}/bench.sqlite3"
        if url.startswith("postgresql"):
            url = stack.enter_context(temporary_postgres_database(url, "pc_bench"))
        config = {"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "CODE_KEYS": "1:" + "b2" * 32}
        app = create_app(config)
        with app.app_context():
            db.create_all()
            batch = build_world(db.session, args.shops, args.lines)
            path = Path(tmp) / "events.jsonl"
            write_events(path, batch, args.lines, args.shops, args.people)
            started = time.perf_counter()

            def after_chunk(report: history_import.HistoryReport) -> None:
                db.session.commit()

            report = history_import.import_history(
                db.session, history_import.read_lines(path), with_fraud=args.fraud, after_chunk=after_chunk
            )
            elapsed = time.perf_counter() - started
            print(
                f"{db.engine.dialect.name}: {report.lines} lines, {report.registered} registered, "
                f"{report.bad_count} bad, {report.people_created} people created in {elapsed:.1f} s: "
                f"{report.lines / elapsed:,.0f} lines/s"
                f" ({1_000_000 / (report.lines / elapsed) / 60:.0f} min for a million)"
                + (" with the fraud rules" if args.fraud else "")
            )
            if report.bad:
                print("first bad lines:", report.bad[:3])
    return 0


if __name__ == "__main__":
    sys.exit(main())
