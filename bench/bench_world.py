"""Regions, the shop import and the demo world: how long they take.

    .venv/bin/python bench/bench_world.py                  # 20k-row CSV, a minute or so
    .venv/bin/python bench/bench_world.py --rows 100000 --database postgresql://postgres@127.0.0.1:5432/test

Builds a throw-away SQLite database (or uses --database, creating the tables
when missing: point it at a scratch database), then times: importing the
bundled regions, looking up the region of random points, validating and
importing a CRM CSV of --rows shops (created, then the same file again as
updates), and the core demo world (without the packages' seeders).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from partner_club import create_app
from partner_club.accounts.models import Role, User
from partner_club.demo.seed import seed_world
from partner_club.extensions import db
from partner_club.outlets.services import import_outlets
from partner_club.regions import geo
from partner_club.regions.services import find_region, import_bundled_regions, region_at, region_shape

REGIONS = ("RU-MOW", "RU-MOS", "RU-SPE", "RU-TA", "RU-SVE", "RU-KDA", "KZ-ALA", "KZ-KAR", "UA-30", "UA-46")


def timed(label: str, func, *args, **kwargs):
    started = time.perf_counter()
    result = func(*args, **kwargs)
    elapsed = time.perf_counter() - started
    print(f"{label:<52} {elapsed:8.2f} s")
    return result, elapsed


def make_csv(session, rows: int, rng: random.Random) -> str:
    reps = [
        User(login=f"bench-rep{n}@example.com", role=Role.REP.value, password_hash="x", full_name=f"Rep {n}")
        for n in range(20)
    ]
    session.add_all(reps)
    session.flush()
    shapes = [(code, region_shape(find_region(session, code))) for code in REGIONS]
    lines = ["external_id;name;region;lat;lon;kind;rep_email"]
    for n in range(rows):
        code, shape = shapes[n % len(shapes)]
        lat, lon = geo.random_point(shape, rng)
        lines.append(f"B{n:07d};Магазин {n};{code};{lat:.6f};{lon:.6f};shop;bench-rep{n % 20}@example.com")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=20_000, help="shops in the CSV")
    parser.add_argument("--lookups", type=int, default=2_000, help="random points to locate")
    parser.add_argument("--database", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/bench.sqlite3"
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
        with app.app_context():
            db.create_all()
            session = db.session
            timed("import bundled regions (126)", import_bundled_regions, session)
            rng = random.Random(1)
            points = [(rng.uniform(41, 70), rng.uniform(20, 100)) for _ in range(args.lookups)]
            _, elapsed = timed(
                f"region_at x {args.lookups} random points",
                lambda: [region_at(session, lat, lon) for lat, lon in points],
            )
            print(f"{'':<52} {elapsed / args.lookups * 1000:8.2f} ms per lookup")
            text, _ = timed(f"generate a CSV of {args.rows} shops", make_csv, session, args.rows, rng)
            result, elapsed = timed(f"outlets import, {args.rows} new", import_outlets, session, text)
            print(f"{'':<52} {args.rows / elapsed:8.0f} rows/s ({result.created} created)")
            result, elapsed = timed(f"outlets import, {args.rows} updates", import_outlets, session, text)
            print(f"{'':<52} {args.rows / elapsed:8.0f} rows/s ({result.updated} updated)")
            session.rollback()
            world, _ = timed("demo world, core only (320 shops)", seed_world, session)
            print(f"{'':<52} {len(world.outlets)} shops, {len(world.owners) + len(world.sellers)} people")
            session.rollback()
    return 0


if __name__ == "__main__":
    sys.exit(main())
