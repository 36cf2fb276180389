"""How long the KPI map takes as registrations grow: rollups keep it flat.

    .venv/bin/python bench/bench_map.py            # 5,000 shops; 100 k and 1 M registrations
    .venv/bin/python bench/bench_map.py --full     # ... and 10 M
    .venv/bin/python bench/bench_map.py --weight-only  # only what a phone downloads
    .venv/bin/python bench/bench_map.py --database-url postgresql://postgres@127.0.0.1:5432/test

The 126 bundled region shapes are imported, 5,000 shops spread over them
(three rep territories per region). Registrations are not inserted one by
one: that is the point of rollups. For each size the daily rollup table is
filled in bulk with one row per (shop, day, product) cell that had
registrations in 2026 (random cells, counts summing exactly to the size),
and the monthly and first/last-active tables are derived from the same
arrays, as `reports rebuild` would. Then the country map
(`GET /reports/map?period=2026-Q1`) and the drill-down of the busiest region
(`GET /reports/map/<ISO>?period=2026-Q1`) are fetched as head office through
the real app, the median of several runs printed.

Then the weight of the country map on a phone: the page's HTML, every
stylesheet, script and module it loads, and the shapes of the zoom a 360 px
screen opens at, as the app serves them and gzipped (as a compressing proxy
would serve them), with the time on Lighthouse's "slow 4G" mobile profile
(1.6 Mbit/s down, 150 ms round trip): a new connection, the page, its assets
in parallel, then the shapes.
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, insert, select, text

from partner_club import create_app
from partner_club.accounts.models import Role, User
from partner_club.extensions import db
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region, Territory
from partner_club.regions.services import import_bundled_regions
from partner_club.testing import temporary_postgres_database
from reports.models import DailyProductRollup, MonthlyOutletRollup, OutletActivity

SHOPS = 5000
PRODUCTS = 4
DAYS = 365
PASSWORD = "bench-password-1"


def build_world(rng: np.random.Generator) -> None:
    import_bundled_regions(db.session)
    regions = list(db.session.scalars(select(Region).order_by(Region.id)))
    head = User(login="head@bench", role=Role.HEAD_OFFICE.value, full_name="Head office")
    head.set_password(PASSWORD)
    db.session.add(head)
    territories = []
    for region in regions:
        for n in range(3):
            territories.append(Territory(region_id=region.id, name=f"{region.iso_code} T{n + 1}"))
    db.session.add_all(territories)
    db.session.flush()
    by_region: dict[int, list[Territory]] = {}
    for territory in territories:
        by_region.setdefault(territory.region_id, []).append(territory)
    rows = []
    # Busier regions get more shops, as in life: a skewed share per region.
    weights = rng.pareto(1.5, len(regions)) + 1
    picks = rng.choice(len(regions), size=SHOPS, p=weights / weights.sum())
    for n, index in enumerate(picks):
        region = regions[index]
        west, south, east, north = (float(v) for v in region.bbox.split(","))
        lat = south + (north - south) * (0.3 + 0.4 * rng.random())
        lon = west + (east - west) * (0.3 + 0.4 * rng.random())
        territory = by_region[region.id][n % 3]
        rows.append(
            dict(
                external_id=f"B{n}",
                name=f"Shop {n}",
                region_id=region.id,
                territory_id=territory.id,
                lat=round(lat, 5),
                lon=round(lon, 5),
                kind="shop",
                active=True,
            )
        )
    db.session.execute(insert(Outlet), rows)
    db.session.commit()


def fill_rollups(total: int, rng: np.random.Generator) -> int:
    """Bulk-loads rollups worth `total` registrations; returns the daily row count."""
    db.session.execute(delete(DailyProductRollup))
    db.session.execute(delete(MonthlyOutletRollup))
    db.session.execute(delete(OutletActivity))
    db.session.commit()
    outlet_ids = np.array(db.session.scalars(select(Outlet.id).order_by(Outlet.id)).all())
    cells = SHOPS * DAYS * PRODUCTS
    rows = min(total, cells)
    chosen = rng.choice(cells, size=rows, replace=False) if rows < cells else np.arange(cells)
    counts = np.full(rows, total // rows, dtype=np.int64)
    counts[: total - counts.sum()] += 1
    # Cells numbered day-major, so the rows arrive in the unique index's order.
    chosen.sort()
    day_index, rest = np.divmod(chosen, SHOPS * PRODUCTS)
    shop_index, product = np.divmod(rest, PRODUCTS)
    start = date(2026, 1, 1)
    days = [start + timedelta(days=int(d)) for d in range(DAYS)]
    volume = np.array([0.01, 0.02, 0.05, 0.1])[product] * counts
    points = np.array([10, 20, 40, 80])[product] * counts
    connection = db.session.connection()
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    # The driver's own executemany with plain tuples: the fastest portable bulk path.
    sql = (
        "INSERT INTO report_daily (day, outlet_id, product_id, product_sku, registrations, volume_m3, points) "
        f"VALUES ({', '.join([mark] * 7)})"
    )
    day_text = [d.isoformat() for d in days]
    step = 200_000
    for begin in range(0, rows, step):
        end = min(rows, begin + step)
        connection.exec_driver_sql(
            sql,
            list(
                zip(
                    [day_text[d] for d in day_index[begin:end]],
                    outlet_ids[shop_index[begin:end]].tolist(),
                    (product[begin:end] + 1).tolist(),
                    [f"SKU-{p + 1}" for p in product[begin:end]],
                    counts[begin:end].tolist(),
                    volume[begin:end].tolist(),
                    points[begin:end].tolist(),
                    strict=False,
                )
            ),
        )
    month_of_day = np.array([d.month - 1 for d in days])
    month = month_of_day[day_index]
    key = shop_index * 12 + month
    monthly_n = np.bincount(key, weights=counts, minlength=SHOPS * 12)
    monthly_v = np.bincount(key, weights=volume, minlength=SHOPS * 12)
    monthly_p = np.bincount(key, weights=points, minlength=SHOPS * 12)
    monthly = [
        dict(
            month=date(2026, int(k % 12) + 1, 1),
            outlet_id=int(outlet_ids[k // 12]),
            registrations=int(monthly_n[k]),
            volume_m3=float(monthly_v[k]),
            points=int(monthly_p[k]),
        )
        for k in np.nonzero(monthly_n)[0]
    ]
    connection.execute(insert(MonthlyOutletRollup.__table__), monthly)
    first = np.full(SHOPS, DAYS)
    last = np.full(SHOPS, -1)
    np.minimum.at(first, shop_index, day_index)
    np.maximum.at(last, shop_index, day_index)
    connection.execute(
        insert(OutletActivity.__table__),
        [
            dict(outlet_id=int(outlet_ids[s]), first_day=days[int(first[s])], last_day=days[int(last[s])])
            for s in range(SHOPS)
            if last[s] >= 0
        ],
    )
    db.session.commit()
    with db.engine.connect() as conn:  # fresh planner statistics, as a nightly ANALYZE would give
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return rows


def timed(client, url: str, runs: int) -> tuple[float, float]:
    """(median, best) in ms; the best is the least disturbed by other work on the machine."""
    client.get(url)  # warm: templates compiled once per process
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(samples), min(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="also 10 million registrations")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--weight-only", action="store_true", help="only the page weight on a phone")
    args = parser.parse_args()
    sizes = [] if args.weight_only else [100_000, 1_000_000] + ([10_000_000] if args.full else [])
    workdir = tempfile.mkdtemp(prefix="bench-map-")
    with ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        url = f"sqlite:///{workdir}/bench.sqlite3"
        if args.database_url:  # a database of its own on that server, dropped at the end
            url = cleanup.enter_context(temporary_postgres_database(args.database_url, "pc_bench_map"))
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "WTF_CSRF_ENABLED": False,
                "SECRET_KEY": "bench",
                "RATELIMIT_ENABLED": False,
                "MAIL_SERVER": None,
            }
        )
        rng = np.random.default_rng(7)
        try:
            results, busiest, shops_there, weight = run(app, sizes, args.runs, rng)
        finally:
            with app.app_context():
                db.engine.dispose()
    if results:
        report(results, busiest, shops_there, args.runs, url)
    print_weight(weight)


def run(app, sizes: list[int], runs: int, rng: np.random.Generator):
    results = []
    with app.app_context():
        db.create_all()
        build_world(rng)
        busiest = db.session.scalar(
            text(
                "SELECT r.iso_code FROM regions r JOIN outlets o ON o.region_id = r.id "
                "GROUP BY r.iso_code ORDER BY COUNT(*) DESC LIMIT 1"
            )
        )
        shops_there = db.session.scalar(
            text("SELECT COUNT(*) FROM outlets o JOIN regions r ON r.id = o.region_id WHERE r.iso_code = :c"),
            {"c": busiest},
        )
        client = app.test_client()
        response = client.post("/login", data={"login": "head@bench", "password": PASSWORD})
        assert response.status_code == 302, "could not sign in"
        for size in sizes:
            began = time.perf_counter()
            rows = fill_rollups(size, rng)
            load = time.perf_counter() - began
            country = timed(client, "/reports/map?period=2026-Q1", runs)
            region = timed(client, f"/reports/map/{busiest}?period=2026-Q1", runs)
            results.append((size, rows, load, country, region))
            print(
                f"  {size:>10,} registrations: {rows:,} daily rollup rows loaded in {load:.1f} s", flush=True
            )
        weight = page_weight(client, "/reports/map?period=2026-Q1")
    return results, busiest, shops_there, weight


SLOW_LINK_BYTES_PER_S = 1.6e6 / 8
SLOW_LINK_RTT_S = 0.150
PHONE_LEVEL = 0  # the shapes level a 360 px screen opens the country at (zoom about 1)


def page_weight(client, url: str) -> list[tuple[str, int, int]]:
    """(what, bytes as the app serves them, bytes if gzipped) of what the country map loads on a phone.

    Requests say "Accept-Encoding: gzip" as a browser does: the shapes come
    gzipped from the app itself; pages and static files only behind a
    compressing proxy, hence the second column.
    """
    asks = {"Accept-Encoding": "gzip, deflate, br"}
    items: list[tuple[str, int, int]] = []

    def fetch(path: str) -> bytes:
        response = client.get(path, headers=asks)
        served = response.get_data()
        body = gzip.decompress(served) if response.headers.get("Content-Encoding") == "gzip" else served
        items.append((path, len(served), len(gzip.compress(body, 6))))
        return body

    html = fetch(url)
    assets = re.findall(rb'(?:src|href)="(/static/[^"]+\.(?:js|css))"', html)
    seen: set[bytes] = set()
    while assets:
        path = assets.pop(0)
        if path in seen:
            continue
        seen.add(path)
        body = fetch(path.decode())
        if path.endswith(b".js"):  # a module's own imports
            base = path.rsplit(b"/", 1)[0]
            assets += [base + b"/" + name for name in re.findall(rb'from "\./([^"]+)"', body)]
    fetch(f"/reports/map/shapes/{PHONE_LEVEL}.json")
    return items


def print_weight(items: list[tuple[str, int, int]]) -> None:
    print(f"\nThe country map on a phone: {len(items)} responses")
    for name, size, zipped in items:
        print(f"  {name:<52} {size / 1024:>8.1f} KB served {zipped / 1024:>8.1f} KB gzipped")
    raw = sum(size for _n, size, _z in items)
    zipped = sum(z for _n, _s, z in items)
    print(f"  {'total':<52} {raw / 1024:>8.1f} KB served {zipped / 1024:>8.1f} KB gzipped  (goal: < 300 KB)")
    # A connection (TCP + TLS: 3 round trips), the page, the assets in parallel, the shapes.
    waits = 6 * SLOW_LINK_RTT_S
    for label, total in (("as served", raw), ("gzipped", zipped)):
        seconds = waits + total / SLOW_LINK_BYTES_PER_S
        print(f"  on slow 4G (1.6 Mbit/s, 150 ms RTT), {label}: {seconds:.1f} s   (goal: < 3 s)")


def report(results, busiest: str, shops_there: int, runs: int, url: str) -> None:
    print(
        f"\n{SHOPS:,} shops, 126 regions; drill-down region {busiest} with {shops_there} shops; "
        f"median of {runs} runs, database {url.split(':')[0]}"
    )
    print(f"{'registrations':>14} {'daily rows':>11} {'country map ms':>22} {'region map ms':>22}")
    print(f"{'':>14} {'':>11} {'median':>11}{'best':>11} {'median':>11}{'best':>11}")
    for size, rows, _load, country, region in results:
        print(
            f"{size:>14,} {rows:>11,} {country[0]:>11.1f}{country[1]:>11.1f} {region[0]:>11.1f}{region[1]:>11.1f}"
        )
    first, last = results[0], results[-1]
    print(
        f"\nlargest / 100 k (medians): country {last[3][0] / first[3][0]:.2f}x, "
        f"region {last[4][0] / first[4][0]:.2f}x; (best): country {last[3][1] / first[3][1]:.2f}x, "
        f"region {last[4][1] / first[4][1]:.2f}x  (goal: < 300 ms at 10 M and <= 1.5x the 100 k time)"
    )


if __name__ == "__main__":
    main()
