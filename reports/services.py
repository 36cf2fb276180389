"""KPI figures of the country, a region, a territory and a shop, from rollups only.

Every figure starts from the monthly rollup of the shops a person may see
(`outlet_filter`), so a rep's numbers are their shops' numbers and nobody
else's. Regions and territories are sums of their shops.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, inspect, literal, select, text, true, union_all
from sqlalchemy.orm import Session, undefer

from codes.models import Registration
from partner_club.accounts.access import EVERYTHING, outlet_filter
from partner_club.accounts.models import Role, User
from partner_club.errors import Forbidden, NotFound
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region, Territory
from partner_club.settings_store import get_setting
from reports.kpi import DEFAULT_AMBER_MARGIN, GREY, METRICS, Figures, TargetCheck, check_target, worst
from reports.models import DailyProductRollup, MonthlyOutletRollup, OutletActivity, Target
from reports.periods import Period
from reports.rollups import unfolded

AMBER_MARGIN_SETTING = "reports.amber_margin"


@dataclass
class Row:
    """One line of a report table and one shape or marker on its map."""

    kind: str  # region | territory | outlet
    id: int
    name: str
    code: str = ""
    figures: Figures = field(default_factory=Figures)
    checks: list[TargetCheck] = field(default_factory=list)
    status: str = GREY
    lat: float | None = None
    lon: float | None = None
    territory_id: int | None = None
    region_id: int | None = None
    geometry: str | None = None
    bbox: str | None = None  # "min_lon,min_lat,max_lon,max_lat"
    points: list[tuple[float, float]] = field(default_factory=list)  # shop positions (territories)
    last_day: date | None = None

    @property
    def gap(self) -> float | None:
        return max(c.gap for c in self.checks) if self.checks else None

    def value(self, metric_key: str) -> float | None:
        return METRICS[metric_key].value(self.figures)


@dataclass
class Report:
    level: str  # country | region
    period: Period
    rows: list[Row]
    total: Row
    outlets: list[Row] = field(default_factory=list)
    region: Region | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return self.total.figures.registrations > 0


def amber_margin(session: Session) -> float:
    return float(get_setting(session, AMBER_MARGIN_SETTING, DEFAULT_AMBER_MARGIN))


def sees_whole_region(user: User, region_id: int) -> bool:
    role = Role(user.role)
    return role in EVERYTHING or (role is Role.REGIONAL_MANAGER and user.region_id == region_id)


def visible_regions(session: Session, user: User, *, shapes: bool = False) -> list[Region]:
    """The regions the person's role covers; `shapes` loads their outlines too (to draw them)."""
    role = Role(user.role)
    query = select(Region).order_by(Region.name_en)
    if shapes:
        query = query.options(undefer(Region.geometry))
    if role in EVERYTHING:
        return list(session.scalars(query))
    if role is Role.REGIONAL_MANAGER:
        return list(session.scalars(query.where(Region.id == user.region_id)))
    if role is Role.REP:
        mine = select(Territory.region_id).where(Territory.rep_id == user.id)
        return list(session.scalars(query.where(Region.id.in_(mine))))
    return []


def visible_territories(session: Session, user: User, region_id: int) -> list[Territory]:
    query = select(Territory).where(Territory.region_id == region_id).order_by(Territory.name)
    if not sees_whole_region(user, region_id):
        query = query.where(Territory.rep_id == user.id)
    return list(session.scalars(query))


def outlet_rows(
    session: Session,
    user: User,
    period: Period,
    *,
    where: ColumnElement[bool] = true(),  # noqa: B008 - an immutable SQL constant
) -> list[Row]:
    """Every visible active shop (matching `where`) with its figures for the period: the
    rollups plus the registrations not folded into them yet, so the figures are exact."""
    rollup = MonthlyOutletRollup
    pending = (
        unfolded()
        .where(
            Registration.created_at >= utc_midnight(period.start),
            Registration.created_at < utc_midnight(period.end),
        )
        .subquery()
    )
    counted = union_all(
        select(rollup.outlet_id, rollup.registrations, rollup.volume_m3, rollup.points).where(
            rollup.month >= period.start, rollup.month < period.end
        ),
        select(pending.c.outlet_id, literal(1), pending.c.volume_m3, pending.c.points),
    ).subquery()
    sums = (
        select(
            counted.c.outlet_id,
            func.sum(counted.c.registrations).label("n"),
            func.sum(counted.c.volume_m3).label("v"),
            func.sum(counted.c.points).label("p"),
        ).group_by(counted.c.outlet_id)
    ).subquery()
    pending_days = _unfolded_days(session)
    query = (
        select(
            Outlet.id,
            Outlet.name,
            Outlet.external_id,
            Outlet.region_id,
            Outlet.territory_id,
            Outlet.lat,
            Outlet.lon,
            OutletActivity.first_day,
            OutletActivity.last_day,
            sums.c.n,
            sums.c.v,
            sums.c.p,
        )
        .outerjoin(sums, sums.c.outlet_id == Outlet.id)
        .outerjoin(OutletActivity, OutletActivity.outlet_id == Outlet.id)
        .where(outlet_filter(user), Outlet.active, where)
        .order_by(Outlet.name)
    )
    rows = []
    for oid, name, ext, region_id, territory_id, lat, lon, first_day, last_day, n, v, p in session.execute(
        query
    ):
        n = int(n or 0)
        first_day, last_day = _widened(first_day, last_day, pending_days.get(oid))
        first = first_day
        figures = Figures(
            registrations=n,
            volume_m3=float(v or 0.0),
            points=int(p or 0),
            shops=1,
            active_shops=1 if n > 0 else 0,
            new_shops=1 if first is not None and period.start <= first < period.end else 0,
        )
        rows.append(
            Row(
                "outlet",
                oid,
                name,
                ext or "",
                figures,
                lat=lat,
                lon=lon,
                territory_id=territory_id,
                region_id=region_id,
                last_day=last_day,
            )
        )
    return rows


def utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _unfolded_days(session: Session) -> dict[int, tuple[date, date]]:
    """(first, last) UTC day of each shop's registrations not folded into the rollups yet."""
    pending = unfolded().subquery()
    days = {}
    for outlet_id, first, last in session.execute(
        select(pending.c.outlet_id, func.min(pending.c.created_at), func.max(pending.c.created_at)).group_by(
            pending.c.outlet_id
        )
    ):
        days[outlet_id] = (_utc_date(first), _utc_date(last))
    return days


def _utc_date(value) -> date:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return (value if value.tzinfo is None else value.astimezone(UTC)).date()


def _as_date(value) -> date | None:
    return value if isinstance(value, date) or value is None else date.fromisoformat(value)


def _widened(first, last, pending: tuple[date, date] | None) -> tuple[date | None, date | None]:
    """A shop's first and last active day, counting its registrations not folded yet."""
    first, last = _as_date(first), _as_date(last)
    if pending is None:
        return first, last
    return min(filter(None, (first, pending[0]))), max(filter(None, (last, pending[1])))


def targets_for(
    session: Session, period: Period, kind: str, ids: Iterable[int]
) -> dict[int, dict[str, float]]:
    ids = list(ids)
    if not ids:
        return {}
    column = {"region": Target.region_id, "territory": Target.territory_id, "outlet": Target.outlet_id}[kind]
    found: dict[int, dict[str, float]] = defaultdict(dict)
    for scope_id, metric, value in session.execute(
        select(column, Target.metric, Target.value).where(Target.period == period.key, column.in_(ids))
    ):
        if scope_id is not None:  # always true (IN never matches NULL); narrows the nullable column
            found[scope_id][metric] = value
    return found


def judge(rows: list[Row], targets: dict[int, dict[str, float]], *, elapsed: float, margin: float) -> None:
    for row in rows:
        row.checks = [
            check_target(METRICS[key], goal, METRICS[key].value(row.figures), elapsed=elapsed, margin=margin)
            for key, goal in sorted(targets.get(row.id, {}).items())
            if key in METRICS
        ]
        row.status = worst(c.status for c in row.checks)


def by_gap(rows: list[Row]) -> list[Row]:
    """Biggest shortfall first; rows with no target last, busiest first."""
    return sorted(rows, key=lambda r: (r.gap is None, -(r.gap or 0.0), -r.figures.registrations, r.name))


def _sum(rows: Iterable[Row]) -> Figures:
    total = Figures()
    for row in rows:
        total.add(row.figures)
    return total


def country_report(
    session: Session, user: User, period: Period, *, now: datetime, locale: str | None = None
) -> Report:
    regions = visible_regions(session, user, shapes=True)
    if not regions and Role(user.role) not in EVERYTHING:
        raise Forbidden(_("You have no region or territory to report on yet."))
    shops = outlet_rows(session, user, period)
    by_region: dict[int | None, list[Row]] = defaultdict(list)  # shop rows always name a region
    for shop in shops:
        by_region[shop.region_id].append(shop)
    rows = [
        Row(
            "region",
            r.id,
            r.name(locale),
            r.iso_code,
            _sum(by_region.get(r.id, ())),
            geometry=r.geometry,
            bbox=r.bbox,
        )
        for r in regions
    ]
    elapsed, margin = period.elapsed(now), amber_margin(session)
    whole = [row for row in rows if sees_whole_region(user, row.id)]
    judge(
        whole, targets_for(session, period, "region", (r.id for r in whole)), elapsed=elapsed, margin=margin
    )
    partial = [row for row in rows if not sees_whole_region(user, row.id)]
    if partial:  # a rep: a region is as good as the rep's own territories in it
        territories = list(
            session.scalars(
                select(Territory).where(
                    Territory.rep_id == user.id, Territory.region_id.in_([r.id for r in partial])
                )
            )
        )
        territory_rows = _territory_rows(territories, shops)
        judge(
            territory_rows,
            targets_for(session, period, "territory", (t.id for t in territory_rows)),
            elapsed=elapsed,
            margin=margin,
        )
        for row in partial:
            row.status = worst(t.status for t in territory_rows if t.region_id == row.id)
    report = Report("country", period, by_gap(rows), Row("total", 0, _("Total"), figures=_sum(rows)))
    _add_notes(report, shops)
    return report


def _territory_rows(territories: list[Territory], shops: list[Row]) -> list[Row]:
    rows = []
    for territory in territories:
        mine = [s for s in shops if s.territory_id == territory.id]
        rows.append(
            Row(
                "territory",
                territory.id,
                territory.name,
                "",
                _sum(mine),
                region_id=territory.region_id,
                points=[(s.lat, s.lon) for s in mine if s.lat is not None and s.lon is not None],
            )
        )
    return rows


def region_report(
    session: Session, user: User, iso_code: str, period: Period, *, now: datetime, locale: str | None = None
) -> Report:
    region = session.scalar(
        select(Region).options(undefer(Region.geometry)).where(Region.iso_code == iso_code.upper())
    )
    if region is None:
        raise NotFound(_("There is no region with the code %(code)s.", code=iso_code))
    if region.id not in {r.id for r in visible_regions(session, user)}:
        raise Forbidden(_("This region is outside your area."))
    shops = outlet_rows(session, user, period, where=Outlet.region_id == region.id)
    territories = visible_territories(session, user, region.id)
    rows = _territory_rows(territories, shops)
    elapsed, margin = period.elapsed(now), amber_margin(session)
    judge(
        rows, targets_for(session, period, "territory", (t.id for t in rows)), elapsed=elapsed, margin=margin
    )
    judge(
        shops, targets_for(session, period, "outlet", (s.id for s in shops)), elapsed=elapsed, margin=margin
    )
    total = Row(
        "region",
        region.id,
        region.name(locale),
        region.iso_code,
        _sum(shops),
        geometry=region.geometry,
        bbox=region.bbox,
    )
    if sees_whole_region(user, region.id):
        judge([total], targets_for(session, period, "region", [region.id]), elapsed=elapsed, margin=margin)
    else:
        total.status = worst(r.status for r in rows)
    report = Report("region", period, by_gap(rows), total, outlets=by_gap(shops), region=region)
    if not shops:
        report.notes.append(_("No shops in this region yet: the map shows its outline only."))
    _add_notes(report, shops)
    return report


def _add_notes(report: Report, shops: list[Row]) -> None:
    if shops and not any(s.figures.registrations for s in shops):
        report.notes.append(
            _("No registrations in %(period)s: every figure is zero.", period=report.period.key)
        )
    if not any(r.checks or r.status != GREY for r in report.rows + report.outlets + [report.total]):
        report.notes.append(
            _("No targets are set for %(period)s: the map is grey.", period=report.period.key)
        )
    report.notes.append(_("Self-audit share shows “no data” until shop self-audit activities exist."))


# --- a shop's card -----------------------------------------------------------


@dataclass
class ShopCard:
    outlet: Outlet
    row: Row
    months: list[date]
    series: dict[str, list[int]]  # product SKU -> registrations per month
    last_day: date | None
    first_day: date | None
    last_login: datetime | None
    people: int
    orders: list[tuple] | None = None


def shop_card(
    session: Session, user: User, outlet_id: int, period: Period, *, now: datetime, months: int = 12
) -> ShopCard:
    outlet = session.get(Outlet, outlet_id)
    if outlet is None:
        raise NotFound(_("There is no such shop."))
    rows = outlet_rows(session, user, period, where=Outlet.id == outlet_id)
    if not rows:
        raise Forbidden(_("This shop is outside your area."))
    row = rows[0]
    judge(
        [row],
        targets_for(session, period, "outlet", [row.id]),
        elapsed=period.elapsed(now),
        margin=amber_margin(session),
    )
    window = [period.end]
    for _i in range(months):
        previous = window[0]
        window.insert(0, date(previous.year - (previous.month == 1), (previous.month - 2) % 12 + 1, 1))
    series: dict[str, list[int]] = defaultdict(lambda: [0] * months)
    daily = DailyProductRollup
    for day, sku, product_id, n in session.execute(
        select(daily.day, daily.product_sku, daily.product_id, daily.registrations).where(
            daily.outlet_id == outlet_id, daily.day >= window[0], daily.day < window[-1]
        )
    ):
        index = (day.year - window[0].year) * 12 + day.month - window[0].month
        series[sku or f"#{product_id}"][index] += n
    pending = unfolded().subquery()
    for at, sku, product_id in session.execute(
        select(pending.c.created_at, pending.c.sku, pending.c.product_id).where(
            pending.c.outlet_id == outlet_id,
            pending.c.created_at >= utc_midnight(window[0]),
            pending.c.created_at < utc_midnight(window[-1]),
        )
    ):
        day = _utc_date(at)
        series[sku or f"#{product_id}"][(day.year - window[0].year) * 12 + day.month - window[0].month] += 1
    activity = session.get(OutletActivity, outlet_id)
    first_day, last_day = _widened(
        activity.first_day if activity else None,
        activity.last_day if activity else None,
        _unfolded_days(session).get(outlet_id),
    )
    last_login, people = session.execute(
        select(func.max(User.last_login_at), func.count(User.id)).where(User.outlet_id == outlet_id)
    ).one()
    return ShopCard(
        outlet,
        row,
        window[:-1],
        dict(sorted(series.items())),
        last_day,
        first_day,
        last_login,
        people,
        orders=prize_orders_of(session, outlet_id),
    )


def prize_orders_of(session: Session, outlet_id: int) -> list[tuple] | None:
    """Prize orders of the shop's people by status, or None when the catalog is not installed.

    Reports may not import catalog, so its table is read by name, and only
    when it exists.
    """
    if not inspect(session.get_bind()).has_table("prize_orders"):
        return None
    rows = session.execute(
        text(
            "SELECT o.status, COUNT(*), COALESCE(SUM(o.points), 0), MAX(o.placed_at) FROM prize_orders o "
            "JOIN users u ON u.id = o.user_id WHERE u.outlet_id = :outlet GROUP BY o.status ORDER BY o.status"
        ),
        {"outlet": outlet_id},
    )
    return [(status, count, points, str(last)[:10] if last else "") for status, count, points, last in rows]
