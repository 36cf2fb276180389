"""Demo data of the reports package: rollups checked against codes' history, and targets.

Runs after codes' seeder, whose registrations already reached the rollups
through `registration_recorded`; a rebuild makes sure (and covers history
loaded any other way). Targets are set from each place's own last month so
the demo map shows every colour: some met, some on track, some behind.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partner_club.demo.world import DemoWorld
from partner_club.outlets.models import Outlet
from reports.models import Frequency, MonthlyOutletRollup, ReportSpan, ScopeKind
from reports.periods import current_month
from reports.rollups import rebuild, registration_daily_counts
from reports.subscriptions import CLUB_ZONE, Schedule, schedule_report
from reports.targets import set_target

SPREAD = (0.6, 0.9, 1.1, 1.6)  # target / last month's figure: met ... far behind


def seed(session: Session, world: DemoWorld) -> None:
    report = rebuild(session, registration_daily_counts(session))
    month = current_month(world.now)
    previous = month.previous()
    last_month = _last_month_by_outlet(session, previous.start)
    rng = world.rng
    regions = 0
    for region in world.regions:
        shops = [o.id for o in world.outlets if o.region_id == region.id]
        base = sum(last_month.get(o, 0) for o in shops)
        if rng.random() < 0.15:
            continue  # a region without a target stays grey, as some will in life
        factor = rng.choice(SPREAD)
        set_target(
            session,
            scope_kind=ScopeKind.REGION.value,
            scope_id=region.id,
            metric="packages",
            period=month.key,
            value=max(5, round(base * factor)),
            actor=world.admin,
        )
        set_target(
            session,
            scope_kind=ScopeKind.REGION.value,
            scope_id=region.id,
            metric="active_share",
            period=month.key,
            value=rng.choice((30, 50, 70)),
            actor=world.admin,
        )
        regions += 1
    for territory in world.territories:
        shops = [o.id for o in world.outlets if o.territory_id == territory.id]
        base = sum(last_month.get(o, 0) for o in shops)
        set_target(
            session,
            scope_kind=ScopeKind.TERRITORY.value,
            scope_id=territory.id,
            metric="packages",
            period=month.key,
            value=max(3, round(base * rng.choice(SPREAD))),
            actor=world.admin,
        )
    for outlet in world.outlets[: max(10, len(world.outlets) // 3)]:
        set_target(
            session,
            scope_kind=ScopeKind.OUTLET.value,
            scope_id=outlet.id,
            metric="packages",
            period=month.key,
            value=max(1, round(last_month.get(outlet.id, 1) * rng.choice(SPREAD))),
            actor=world.admin,
        )
    _subscriptions(session, world)
    world.notes.append(
        f"Reports: rollups rebuilt from {report.registrations} registrations "
        f"({'matched' if report.matched else 'fixed'}); targets for {month.key} in {regions} regions, "
        f"{len(world.territories)} territories and some shops. Map: /reports/map"
    )


def _subscriptions(session: Session, world: DemoWorld) -> None:
    """Regional managers choose the KPI report for their first reps: weekly, and one monthly."""
    manager_of = {manager.region_id: manager for manager in world.managers}
    region_of = {territory.rep_id: territory.region_id for territory in world.territories}
    weekly = Schedule(Frequency.WEEKLY.value, weekday=0, time_zone=CLUB_ZONE)
    monthly = Schedule(Frequency.MONTHLY.value, time_zone=CLUB_ZONE, span=ReportSpan.PREVIOUS_MONTH.value)
    for n, rep in enumerate(world.reps[:3]):
        manager = manager_of[region_of[rep.id]]
        for schedule in (weekly, monthly) if n == 0 else (weekly,):
            schedule_report(session, manager, rep, schedule, now=world.now)


def _last_month_by_outlet(session: Session, month_start) -> dict[int, int]:
    rollup = MonthlyOutletRollup
    rows = session.execute(
        select(rollup.outlet_id, func.sum(rollup.registrations))
        .join(Outlet, Outlet.id == rollup.outlet_id)
        .where(rollup.month == month_start)
        .group_by(rollup.outlet_id)
    )
    return {outlet_id: int(n or 0) for outlet_id, n in rows}
