"""Keeping the rollups: registrations folded in by a job, and a full rebuild.

A registration is stored with `folded` false. `fold_registrations` takes the
unfolded ones (locking them: FOR UPDATE SKIP LOCKED on PostgreSQL, so two
folds never take the same row; SQLite has one writer at a time), marks them
folded and adds them to the rollups in the same transaction: each is counted
exactly once. It runs as a job within a minute of a registration's commit
(`reports.jobs.schedule_fold`) and from `flask reports fold`. The pages stay
exact meanwhile: `unfolded` is what they add at read time. The upserts are
INSERT ... ON CONFLICT DO UPDATE on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, Select, case, cast, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from codes.models import Product, Registration, RegistrationStatus
from reports.models import DailyProductRollup, MonthlyOutletRollup, OutletActivity

FOLD_BATCH = 5000  # registrations folded per transaction


def fold_registrations(session: Session, *, limit: int = FOLD_BATCH) -> int:
    """Folds up to `limit` registrations that are not in the rollups yet; the number taken.

    One UPDATE marks them folded and returns what the rollups need; the upserts follow in the
    same transaction, so a rollback leaves them unfolded and uncounted. Rejected
    registrations and those of people without a shop are marked, and count nowhere.
    """
    table = Registration.__table__
    chosen = (
        select(table.c.id)
        .where(~table.c.folded)
        .order_by(table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    taken = session.execute(
        update(table)
        .where(table.c.id.in_(chosen.scalar_subquery()))
        .values(folded=True)
        .returning(table.c.outlet_id, table.c.product_id, table.c.created_at, table.c.points, table.c.status)
    ).all()
    counted = [
        row for row in taken if row.outlet_id is not None and row.status != RegistrationStatus.REJECTED.value
    ]
    if counted:
        products = {
            product_id: (sku, volume or 0.0)
            for product_id, sku, volume in session.execute(
                select(Product.id, Product.sku, Product.volume_m3).where(
                    Product.id.in_({row.product_id for row in counted})
                )
            )
        }
        daily: dict[Key, DailyCounts] = {}
        for row in counted:
            sku, volume = products[row.product_id]
            day = _utc(row.created_at).date()
            counts = daily.setdefault((day, row.outlet_id, row.product_id), DailyCounts(product_sku=sku))
            counts.registrations += 1
            counts.volume_m3 += volume
            counts.points += row.points
        add_to_rollups(session, daily)
    return len(taken)


def fold_all(session: Session) -> int:
    """Folds until nothing is left (each batch in the caller's transaction); the number taken."""
    total = 0
    while True:
        taken = fold_registrations(session)
        total += taken
        if taken < FOLD_BATCH:
            return total


def unfolded() -> Select:
    """The registrations the rollups do not count yet and will: (outlet_id, product_id, sku,
    created_at, volume_m3, points). The pages add these to what they read from the rollups."""
    return (
        select(
            Registration.outlet_id,
            Registration.product_id,
            Product.sku,
            Registration.created_at,
            func.coalesce(Product.volume_m3, 0.0).label("volume_m3"),
            Registration.points,
        )
        .join(Product, Product.id == Registration.product_id)
        .where(
            ~Registration.folded,
            Registration.outlet_id.is_not(None),
            Registration.status != RegistrationStatus.REJECTED.value,
        )
    )


def is_folded(session: Session, registration_id: int) -> bool:
    """Whether the rollups count the registration, read under its row lock on PostgreSQL (a fold
    that holds it finishes first); on SQLite the caller already holds the only write lock."""
    return bool(
        session.scalar(
            select(Registration.folded).where(Registration.id == registration_id).with_for_update()
        )
    )


def uncount_registration(
    session: Session, *, outlet_id: int, product_id: int, at: datetime, volume_m3: float, points: int
) -> None:
    """Takes a folded registration out of the rollups again (a rejection on review).

    A plain UPDATE: the rows exist, and the CHECK on negative counts would
    refuse an upsert's candidate row. First/last active days stay: the shop
    was active that day, whatever a reviewer decided later.
    """
    day = _utc(at).date()
    volume, points = float(volume_m3 or 0.0), int(points or 0)
    daily, monthly = DailyProductRollup, MonthlyOutletRollup
    session.execute(
        update(daily)
        .where(daily.day == day, daily.outlet_id == outlet_id, daily.product_id == product_id)
        .values(
            registrations=daily.registrations - 1,
            volume_m3=daily.volume_m3 - volume,
            points=daily.points - points,
        )
    )
    session.execute(
        update(monthly)
        .where(monthly.month == day.replace(day=1), monthly.outlet_id == outlet_id)
        .values(
            registrations=monthly.registrations - 1,
            volume_m3=monthly.volume_m3 - volume,
            points=monthly.points - points,
        )
    )


def add_to_rollups(session: Session, daily: dict[Key, DailyCounts]) -> None:
    """Adds daily counts to the three rollups (day and product, month, the shop's active days)."""
    dialect = session.get_bind().dialect.name
    monthly: dict[tuple[date, int], DailyCounts] = {}
    activity: dict[int, list[date]] = {}
    for (day, outlet_id, _product_id), counts in daily.items():
        month = monthly.setdefault((day.replace(day=1), outlet_id), DailyCounts())
        month.registrations += counts.registrations
        month.volume_m3 += counts.volume_m3
        month.points += counts.points
        span = activity.setdefault(outlet_id, [day, day])
        span[0], span[1] = min(span[0], day), max(span[1], day)
    session.execute(
        _upserts(dialect)[0],
        [
            {
                "day": day,
                "outlet_id": outlet_id,
                "product_id": product_id,
                "product_sku": c.product_sku,
                "registrations": c.registrations,
                "volume_m3": c.volume_m3,
                "points": c.points,
            }
            for (day, outlet_id, product_id), c in sorted(daily.items())
        ],
    )
    session.execute(
        _upserts(dialect)[1],
        [
            {
                "month": month,
                "outlet_id": outlet_id,
                "registrations": c.registrations,
                "volume_m3": c.volume_m3,
                "points": c.points,
            }
            for (month, outlet_id), c in sorted(monthly.items())
        ],
    )
    session.execute(
        _upserts(dialect)[2],
        [
            {"outlet_id": outlet_id, "first_day": span[0], "last_day": span[1]}
            for outlet_id, span in sorted(activity.items())
        ],
    )


_UPSERTS: dict[str, tuple] = {}


def _upserts(dialect: str) -> tuple:
    """The three upserts: counts are added, the active days widened."""
    if dialect in _UPSERTS:
        return _UPSERTS[dialect]
    insert_ = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert_ is None:
        raise RuntimeError(f"rollup upserts need PostgreSQL or SQLite, not {dialect}")
    daily = DailyProductRollup.__table__
    stmt = insert_(daily)
    daily_upsert = stmt.on_conflict_do_update(
        index_elements=[daily.c.day, daily.c.outlet_id, daily.c.product_id],
        set_={
            "registrations": daily.c.registrations + stmt.excluded.registrations,
            "volume_m3": daily.c.volume_m3 + stmt.excluded.volume_m3,
            "points": daily.c.points + stmt.excluded.points,
        },
    )
    monthly = MonthlyOutletRollup.__table__
    stmt = insert_(monthly)
    monthly_upsert = stmt.on_conflict_do_update(
        index_elements=[monthly.c.month, monthly.c.outlet_id],
        set_={
            "registrations": monthly.c.registrations + stmt.excluded.registrations,
            "volume_m3": monthly.c.volume_m3 + stmt.excluded.volume_m3,
            "points": monthly.c.points + stmt.excluded.points,
        },
    )
    activity = OutletActivity.__table__
    stmt = insert_(activity)
    activity_upsert = stmt.on_conflict_do_update(
        index_elements=[activity.c.outlet_id],
        set_={
            "first_day": case(
                (stmt.excluded.first_day < activity.c.first_day, stmt.excluded.first_day),
                else_=activity.c.first_day,
            ),
            "last_day": case(
                (stmt.excluded.last_day > activity.c.last_day, stmt.excluded.last_day),
                else_=activity.c.last_day,
            ),
        },
    )
    _UPSERTS[dialect] = (daily_upsert, monthly_upsert, activity_upsert)
    return _UPSERTS[dialect]


def _utc(value: Any) -> datetime:
    """A stored timestamp in UTC (SQLite may hand back a naive one or text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class DailyCounts:
    registrations: int = 0
    volume_m3: float = 0.0
    points: int = 0
    product_sku: str = ""


Key = tuple[date, int, int]  # day, outlet, product


@dataclass
class RebuildReport:
    rows: int = 0
    registrations: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return not self.differences


def utc_day(session: Session, column):
    """The UTC calendar day of a timestamp column, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def current_daily(session: Session) -> dict[Key, DailyCounts]:
    table = DailyProductRollup
    rows = session.execute(
        select(
            table.day,
            table.outlet_id,
            table.product_id,
            table.registrations,
            table.volume_m3,
            table.points,
            table.product_sku,
        )
    )
    return {(r[0], r[1], r[2]): DailyCounts(r[3], r[4], r[5], r[6]) for r in rows}


def compare(
    expected: dict[Key, DailyCounts], actual: dict[Key, DailyCounts], *, limit: int = 50
) -> list[str]:
    """Human-readable lines for every key whose counters differ."""
    lines: list[str] = []
    for key in sorted(set(expected) | set(actual)):
        want, have = expected.get(key, DailyCounts()), actual.get(key, DailyCounts())
        if (
            want.registrations != have.registrations
            or want.points != have.points
            or abs(want.volume_m3 - have.volume_m3) > 1e-6
        ):
            if len(lines) < limit:
                lines.append(
                    f"{key[0].isoformat()} outlet {key[1]} product {key[2]}: "
                    f"registrations {have.registrations} -> {want.registrations}, "
                    f"points {have.points} -> {want.points}, "
                    f"volume {have.volume_m3:.4f} -> {want.volume_m3:.4f}"
                )
            else:
                lines.append("...")
                break
    return lines


def registration_daily_counts(session: Session) -> Iterator[tuple]:
    """Codes' registrations summed per UTC day, shop and product (rejected ones excluded).

    The one place reports reads raw registrations: the rebuild, never a page.
    """
    day = utc_day(session, Registration.created_at)
    query = (
        select(
            day,
            Registration.outlet_id,
            Registration.product_id,
            Product.sku,
            func.count(),
            func.sum(func.coalesce(Product.volume_m3, 0.0)),
            func.sum(Registration.points),
        )
        .join(Product, Product.id == Registration.product_id)
        .where(Registration.outlet_id.is_not(None), Registration.status != RegistrationStatus.REJECTED.value)
        .group_by(day, Registration.outlet_id, Registration.product_id, Product.sku)
    )
    yield from session.execute(query.execution_options(yield_per=10000))


def rebuild(session: Session, expected_rows: Iterable[tuple], *, write: bool = True) -> RebuildReport:
    """Replaces every rollup by the counts of `expected_rows` and says what differed.

    `expected_rows` yields (day, outlet_id, product_id, product_sku,
    registrations, volume_m3, points), one per day, shop and product, as
    `registration_daily_counts` reads them from codes. Registrations not folded
    in yet are folded first: the rollups then claim to count every one.
    """
    fold_all(session)
    expected: dict[Key, DailyCounts] = {}
    for day, outlet_id, product_id, sku, registrations, volume, points in expected_rows:
        expected[(_as_date(day), outlet_id, product_id)] = DailyCounts(
            int(registrations), float(volume or 0.0), int(points or 0), sku or ""
        )
    report = RebuildReport(rows=len(expected), registrations=sum(c.registrations for c in expected.values()))
    report.differences = compare(expected, current_daily(session))
    if write:
        write_rollups(session, expected)
    return report


def write_rollups(session: Session, daily: dict[Key, DailyCounts]) -> None:
    """Replaces the three rollup tables with the given daily counts (bulk)."""
    session.execute(delete(DailyProductRollup))
    session.execute(delete(MonthlyOutletRollup))
    session.execute(delete(OutletActivity))
    monthly: dict[tuple[date, int], list] = defaultdict(lambda: [0, 0.0, 0])
    activity: dict[int, list[date]] = {}
    for chunk in _chunks(daily.items(), 5000):
        session.execute(
            insert(DailyProductRollup),
            [
                dict(
                    day=day,
                    outlet_id=outlet,
                    product_id=product,
                    product_sku=c.product_sku,
                    registrations=c.registrations,
                    volume_m3=c.volume_m3,
                    points=c.points,
                )
                for (day, outlet, product), c in chunk
            ],
        )
        for (day, outlet, _product), c in chunk:
            month = monthly[(day.replace(day=1), outlet)]
            month[0] += c.registrations
            month[1] += c.volume_m3
            month[2] += c.points
            if c.registrations > 0:
                span = activity.setdefault(outlet, [day, day])
                span[0], span[1] = min(span[0], day), max(span[1], day)
    for chunk in _chunks(monthly.items(), 5000):
        session.execute(
            insert(MonthlyOutletRollup),
            [
                dict(month=month, outlet_id=outlet, registrations=v[0], volume_m3=v[1], points=v[2])
                for (month, outlet), v in chunk
            ],
        )
    for chunk in _chunks(activity.items(), 5000):
        session.execute(
            insert(OutletActivity),
            [dict(outlet_id=outlet, first_day=span[0], last_day=span[1]) for outlet, span in chunk],
        )
    session.flush()


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
