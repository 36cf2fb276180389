"""Keeping the rollups: one upsert per registration, and a full rebuild.

A registration's rollups are written with it (`companion`, through
`partner_club.companions`: in the registration's own statement on
PostgreSQL), so a registration that is not stored, or rolled back, leaves no
count behind. The statements are INSERT ... ON CONFLICT DO UPDATE on
PostgreSQL and SQLite alike, so two shops registering at the same moment
never lose an increment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, case, cast, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from codes.models import Product, Registration, RegistrationStatus
from partner_club import companions
from reports.models import DailyProductRollup, MonthlyOutletRollup, OutletActivity


def companion(
    *, outlet_id: int, product_id: int, product_sku: str, at: datetime, volume_m3: float, points: int
) -> companions.Companion:
    """The rollups of a registration about to be stored, written with it (`partner_club.companions`)."""
    day = at.astimezone(UTC).date()
    values = {
        "day": day,
        "month": day.replace(day=1),
        "outlet_id": outlet_id,
        "product_id": product_id,
        "product_sku": product_sku or "",
        "registrations": 1,
        "volume_m3": float(volume_m3 or 0.0),
        "points": int(points or 0),
    }
    return companions.Companion(
        "reports.rollups", _upserts, {_PREFIX + name: v for name, v in values.items()}
    )


def uncount_registration(
    session: Session, *, outlet_id: int, product_id: int, at: datetime, volume_m3: float, points: int
) -> None:
    """Takes a counted registration out of the rollups again (a rejection on review).

    A plain UPDATE: the rows exist, and the CHECK on negative counts would
    refuse an upsert's candidate row. First/last active days stay: the shop
    was active that day, whatever a reviewer decided later.
    """
    day = at.astimezone(UTC).date()
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


_PREFIX = "rollup_"


def _upserts(dialect: str, _registration_id: Any, source: Any) -> tuple:
    """The three upserts (day and product, month, the shop's first and last active day), taking
    their values from rollup_* parameters, one row per row of `source` (see companions.values_of)."""
    insert_ = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert_ is None:
        raise RuntimeError(f"rollup upserts need PostgreSQL or SQLite, not {dialect}")

    def upsert(table, columns: tuple[str, ...], sources: tuple[str, ...]):
        values = [
            companions.value(_PREFIX + name, table.c[column].type)
            for column, name in zip(columns, sources, strict=False)
        ]
        return insert_(table).from_select(list(columns), companions.values_of(values, source))

    daily = DailyProductRollup.__table__
    stmt = upsert(
        daily,
        ("day", "outlet_id", "product_id", "product_sku", "registrations", "volume_m3", "points"),
        ("day", "outlet_id", "product_id", "product_sku", "registrations", "volume_m3", "points"),
    )
    daily_upsert = stmt.on_conflict_do_update(
        index_elements=[daily.c.day, daily.c.outlet_id, daily.c.product_id],
        set_={
            "registrations": daily.c.registrations + stmt.excluded.registrations,
            "volume_m3": daily.c.volume_m3 + stmt.excluded.volume_m3,
            "points": daily.c.points + stmt.excluded.points,
        },
    )

    monthly = MonthlyOutletRollup.__table__
    stmt = upsert(
        monthly,
        ("month", "outlet_id", "registrations", "volume_m3", "points"),
        ("month", "outlet_id", "registrations", "volume_m3", "points"),
    )
    monthly_upsert = stmt.on_conflict_do_update(
        index_elements=[monthly.c.month, monthly.c.outlet_id],
        set_={
            "registrations": monthly.c.registrations + stmt.excluded.registrations,
            "volume_m3": monthly.c.volume_m3 + stmt.excluded.volume_m3,
            "points": monthly.c.points + stmt.excluded.points,
        },
    )

    activity = OutletActivity.__table__
    stmt = upsert(activity, ("outlet_id", "first_day", "last_day"), ("outlet_id", "day", "day"))
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
    return daily_upsert, monthly_upsert, activity_upsert


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
    `reports.services.registration_daily_counts` reads them from codes.
    """
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
