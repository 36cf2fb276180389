"""What running campaigns add to one registration: the one interface the registration calls.

`evaluate` answers, before the registration is stored, its breakdown items (`{"source":
"campaign", "campaign": id, "name", "points"}`), so the registration is inserted with its
points; `Awards.record` then records the awards under the registration's id (flush only).
`campaign_points` does both, for a caller that has the id already. It is deterministic: the
same registration in the same state gets the same points. Budgets and caps are exact under
concurrency: the campaigns that keep a count are locked in id order (`SELECT ... FOR UPDATE`
on PostgreSQL, SQLite has one writer anyway) before their usage is read, stay locked until
the transaction ends, and the budget moves with
`UPDATE ... SET spent = spent + :p WHERE spent + :p <= budget`.

Running campaigns are kept per process and reloaded when the `campaigns.version` setting
(a fresh token on every change of any campaign, read with the registration's other
settings) differs, with the ones that cover each product worked out once: two hundred
running campaigns cost a registration a filter of the few that cover its product, and
queries only for those that apply and keep a count.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, bindparam, case, delete, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from partner_club.campaigns.models import (
    CAP_FIELDS,
    Campaign,
    CampaignAward,
    Combine,
    Mechanic,
    Status,
    points_of,
)
from partner_club.database import UTCDateTime
from partner_club.ledger.credits import Source
from partner_club.settings_store import get_setting, put_setting

VERSION_KEY = "campaigns.version"  # a setting: read from the per-process settings cache

COUNTING = frozenset({Mechanic.EVERY_NTH.value, Mechanic.ONCE_AT_N.value, Mechanic.FIRST_N.value})


@dataclass(frozen=True)
class Rule:
    """A running campaign as evaluation needs it: plain values, no ORM object."""

    id: int
    name_ru: str
    name_en: str
    starts_at: datetime
    ends_at: datetime
    zone: ZoneInfo
    regions: frozenset[str]
    territory_ids: frozenset[int]
    shop_kinds: frozenset[str]
    roles: frozenset[str]
    outlet_ids: frozenset[int]
    skus: frozenset[str]
    product_kinds: frozenset[str]
    packages: frozenset[str]
    mechanic: str
    value: float
    n: int | None
    caps: tuple[int | None, ...]  # in the order of CAP_FIELDS
    budget: int | None
    combine: str
    priority: int
    control_share: float
    control_seed: int

    @classmethod
    def of(cls, c: Any) -> Rule:
        return cls(
            id=c.id,
            name_ru=c.name_ru,
            name_en=c.name_en,
            starts_at=_aware(c.starts_at),
            ends_at=_aware(c.ends_at),
            zone=ZoneInfo(c.time_zone),
            regions=frozenset(c.regions or ()),
            territory_ids=frozenset(c.territory_ids or ()),
            shop_kinds=frozenset(c.shop_kinds or ()),
            roles=frozenset(c.roles or ()),
            outlet_ids=frozenset(c.outlet_ids or ()),
            skus=frozenset(c.skus or ()),
            product_kinds=frozenset(c.product_kinds or ()),
            packages=frozenset(c.packages or ()),
            mechanic=c.mechanic,
            value=float(c.value),
            n=c.n,
            caps=tuple(getattr(c, field) for field in CAP_FIELDS),
            budget=c.budget,
            combine=c.combine,
            priority=c.priority,
            control_share=float(c.control_share or 0),
            control_seed=c.control_seed or 0,
        )

    def name(self, locale: Any = None) -> str:
        return self.name_en if str(locale or "ru").startswith("en") else self.name_ru

    @property
    def keeps_count(self) -> bool:
        """Needs the lock and its usage read: a budget, a cap or a count of packages."""
        return (
            self.budget is not None or any(cap is not None for cap in self.caps) or self.mechanic in COUNTING
        )

    def concerns_person(self, *, region_iso, territory_id, shop_id, shop_kind, role) -> bool:
        """The audience: every non-empty list must match."""
        return (
            (not self.regions or region_iso in self.regions)
            and (not self.territory_ids or territory_id in self.territory_ids)
            and (not self.shop_kinds or shop_kind in self.shop_kinds)
            and (not self.roles or role in self.roles)
            and (not self.outlet_ids or shop_id in self.outlet_ids)
        )

    def covers_product(self, *, sku, product_kind, package) -> bool:
        return (
            (not self.skus or sku in self.skus)
            and (not self.product_kinds or product_kind in self.product_kinds)
            and (not self.packages or package in self.packages)
        )

    def in_period(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at

    def in_control(self, shop_id: int | None) -> bool:
        return in_control_group(self.control_seed, self.control_share, shop_id)

    def points_for(self, base_points: int, counted_before: int, paid_before: int = 0) -> int:
        """The campaign's points for one package, before caps and budget: `counted_before` is
        how many packages of the shop (of this product, for first_n) it counted earlier, and
        `paid_before` how many of them earned points.

        The bonuses at N packages follow the packages that stand, not positions: a rejected
        registration gives its count back, and a bonus already paid is not paid again when the
        count reaches N a second time."""
        kind = self.mechanic
        if kind == Mechanic.MULTIPLIER.value:
            return max(0, round(base_points * (self.value - 1)))
        if kind == Mechanic.BONUS.value:
            return points_of(self.value)
        position = counted_before + 1
        n = self.n or 1
        if kind == Mechanic.EVERY_NTH.value:
            return points_of(self.value) if position // n > paid_before else 0
        if kind == Mechanic.ONCE_AT_N.value:
            return points_of(self.value) if position >= n and not paid_before else 0
        return points_of(self.value) if position <= n else 0  # first_n

    def windows(self, at: datetime) -> tuple[datetime, datetime]:
        """Starts (UTC) of the local day and week (from Monday) of `at` in the campaign's zone."""
        local = at.astimezone(self.zone)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        week = day - timedelta(days=day.weekday())
        return _utc_midnight(day), _utc_midnight(week)


def _utc_midnight(local_midnight: datetime) -> datetime:
    # Re-attach the zone so a midnight across a DST change gets its own offset.
    naive = local_midnight.replace(tzinfo=None)
    return naive.replace(tzinfo=local_midnight.tzinfo).astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def in_control_group(seed: int, share: float, shop_id: int | None) -> bool:
    """A random but stable share of shops left out of a campaign (no shop: never left out)."""
    if share <= 0 or shop_id is None:
        return False
    digest = hashlib.sha256(f"{seed}:{shop_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


# --- the per-process cache of running campaigns -----------------------------------------

_cache: dict[str, Any] = {"key": None, "rules": (), "by_product": {}}


def bump_version(session: Session) -> None:
    """Every change of a campaign calls this: each process reloads the running ones."""
    put_setting(session, VERSION_KEY, uuid.uuid4().hex)


def running_rules(session: Session) -> tuple[Rule, ...]:
    version = get_setting(session, VERSION_KEY, None)
    if version is None:
        return ()  # no campaign was ever written through the services: none runs, no query
    key = (str(session.get_bind().engine.url), version)
    if _cache["key"] == key:
        return _cache["rules"]
    rows = session.execute(
        select(Campaign.__table__).where(Campaign.status == Status.RUNNING.value).order_by(Campaign.id)
    ).all()
    rules = tuple(Rule.of(row) for row in rows)
    _cache.update(key=key, rules=rules, by_product={})
    return rules


def rules_for_product(session: Session, *, sku: str, product_kind: str, package: str) -> tuple[Rule, ...]:
    """The running campaigns that cover one product, worked out once per product while the
    running ones stay the same: of two hundred, a registration then looks at the few that
    concern its product."""
    rules = running_rules(session)
    if not rules:
        return ()
    key = (sku, product_kind, package)
    found = _cache["by_product"].get(key)
    if found is None:
        found = tuple(
            r for r in rules if r.covers_product(sku=sku, product_kind=product_kind, package=package)
        )
        _cache["by_product"][key] = found
    return found


def forget_cached() -> None:
    _cache.update(key=None, rules=(), by_product={})


# --- evaluation ---------------------------------------------------------------------------


def applicable(rules, *, region_iso, territory_id, shop_id, shop_kind, role, at) -> list[Rule]:
    """Of the rules covering the product (`rules_for_product`), those whose period, audience and
    control group let them apply."""
    return [
        rule
        for rule in rules
        if rule.in_period(at)
        and rule.concerns_person(
            region_iso=region_iso, territory_id=territory_id, shop_id=shop_id, shop_kind=shop_kind, role=role
        )
        and not rule.in_control(shop_id)
    ]


def combine(candidates: list[tuple[Rule, int]]) -> list[tuple[Rule, int]]:
    """Which of the campaigns that give points keep them: an exclusive one (highest priority,
    then oldest) alone; otherwise every "adds" campaign plus the best of the "best" ones."""
    positive = [(rule, points) for rule, points in candidates if points > 0]
    exclusive = [c for c in positive if c[0].combine == Combine.EXCLUSIVE.value]
    if exclusive:
        return [min(exclusive, key=lambda c: (-c[0].priority, c[0].id))]
    chosen = [c for c in positive if c[0].combine == Combine.ADDS.value]
    best = [c for c in positive if c[0].combine == Combine.BEST.value]
    if best:
        chosen.append(max(best, key=lambda c: (c[1], c[0].priority, -c[0].id)))
    return sorted(chosen, key=lambda c: (-c[0].priority, c[0].id))


@dataclass
class _Usage:
    spent: int = 0
    running: bool = True
    used: tuple[int, ...] = (0, 0, 0, 0, 0, 0)  # points in the order of CAP_FIELDS
    counted: int = 0  # packages counted for the shop (for first_n: of this product)
    paid: int = 0  # of those, the packages that earned points


@dataclass
class Awards:
    """What the running campaigns give one registration, evaluated before it is stored (so it
    is stored with its points): `items` are its breakdown lines; `record` keeps the awards once
    the registration has its id. The campaigns that keep a count stay locked in between."""

    items: list[Source]
    given: list[tuple[int, int]]  # (campaign, points) of each that gave points or counted the package
    spends: list[tuple[Rule, int]]  # the budgets to move
    usage: dict[int, _Usage]
    same: dict[str, Any]  # what every award row of the registration holds: person, shop, sku, time

    def record(self, session: Session, registration_id: int) -> None:
        if self.given:
            _insert_awards(session, dict(self.same, registration_id=registration_id), self.given)
        if self.spends:
            _spend(session, self.spends, self.usage, self.same["created_at"])


NO_AWARDS = Awards(items=[], given=[], spends=[], usage={}, same={})


def evaluate(
    session: Session,
    *,
    base_points: int,
    sku: str,
    product_kind: str,
    package: str,
    region_iso: str | None,
    territory_id: int | None,
    shop_id: int | None,
    shop_kind: str | None,
    person_id: int,
    role: str,
    at: datetime,
    locale: str | None = None,
) -> Awards:
    """The campaigns' points for one registration about to be stored (nothing written yet)."""
    at = _aware(at)
    rules = applicable(
        rules_for_product(session, sku=sku, product_kind=product_kind, package=package),
        region_iso=region_iso,
        territory_id=territory_id,
        shop_id=shop_id,
        shop_kind=shop_kind,
        role=role,
        at=at,
    )
    if not rules:
        return NO_AWARDS
    usage = _lock_and_read(session, [r for r in rules if r.keeps_count], person_id, shop_id, sku, at)
    candidates = []
    for rule in rules:
        state = usage.get(rule.id, _Usage())
        if not state.running:
            continue  # paused, stopped or out of budget since the cache was read
        points = rule.points_for(base_points, state.counted, state.paid)
        points = min(points, _room(rule, state, has_shop=shop_id is not None))
        candidates.append((rule, points))
    chosen = combine(candidates)
    points_given = {rule.id: points for rule, points in chosen}
    given = [
        (rule.id, points_given.get(rule.id, 0))
        for rule, _points in candidates
        if rule.id in points_given or rule.mechanic in COUNTING  # a package counts even without points
    ]
    items: list[Source] = [
        {
            "source": "campaign",
            "campaign": rule.id,
            "name": rule.name(locale),
            "mechanic": rule.mechanic,
            "value": rule.value,
            "points": points,
        }
        for rule, points in chosen
    ]
    spends = [(rule, points) for rule, points in chosen if rule.budget is not None]
    same = {"person_id": person_id, "outlet_id": shop_id, "sku": sku, "created_at": at}
    return Awards(items, given, spends, usage, same)


def campaign_points(session: Session, *, registration_id: int, **registration: Any) -> list[Source]:
    """`evaluate` and `record` at once: the breakdown items, the awards recorded (flush only)."""
    awards = evaluate(session, **registration)
    awards.record(session, registration_id)
    return awards.items


# PostgreSQL takes a registration's awards as one INSERT of two arrays: with twenty campaigns
# applying, an executemany of twenty rows cost the app and the database half a millisecond more.
_INSERT_UNNESTED = text(
    "INSERT INTO campaign_awards (registration_id, campaign_id, person_id, outlet_id, sku, points, created_at) "
    "SELECT :registration_id, campaign_id, :person_id, :outlet_id, :sku, points, :created_at "
    "FROM unnest(CAST(:campaign_ids AS INTEGER[]), CAST(:points AS INTEGER[])) AS given(campaign_id, points)"
).bindparams(bindparam("created_at", type_=UTCDateTime()))


def _insert_awards(session: Session, same: dict[str, Any], given: list[tuple[int, int]]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        campaign_ids, points = zip(*given, strict=True)
        session.execute(_INSERT_UNNESTED, dict(same, campaign_ids=list(campaign_ids), points=list(points)))
    else:
        rows = [dict(same, campaign_id=campaign_id, points=points) for campaign_id, points in given]
        session.execute(insert(CampaignAward.__table__), rows)


def _room(rule: Rule, state: _Usage, *, has_shop: bool) -> int:
    """Points the caps and the budget still allow."""
    room = []
    for index, cap in enumerate(rule.caps):
        if cap is not None and (index < 3 or has_shop):
            room.append(cap - state.used[index])
    if rule.budget is not None:
        room.append(rule.budget - state.spent)
    return max(0, min(room)) if room else 1 << 62


def _lock_and_read(
    session: Session, rules: list[Rule], person_id: int, shop_id: int | None, sku: str, at: datetime
) -> dict[int, _Usage]:
    if not rules:
        return {}
    locked = session.execute(_LOCK, {"ids": [rule.id for rule in rules]}).all()
    usage = {row.id: _Usage(spent=row.spent, running=row.status == Status.RUNNING.value) for row in locked}
    by_window: dict[tuple[datetime, datetime], list[Rule]] = {}
    for rule in rules:  # campaigns in one time zone share their day and week: one read for them all
        by_window.setdefault(rule.windows(at), []).append(rule)
    mechanic = {rule.id: rule.mechanic for rule in rules}
    for (day, week), group in by_window.items():
        rows = session.execute(
            _usage_statement(),
            {
                "ids": [rule.id for rule in group],
                "person": person_id,
                "shop": shop_id if shop_id is not None else -1,
                "sku": sku,
                "day": day,
                "week": week,
            },
        ).all()
        for row in rows:
            state = usage.setdefault(row[0], _Usage())
            state.used = tuple(int(v) for v in row[1:7])
            if shop_id is None:  # no shop: packages are counted per person
                counted = row[9] if mechanic[row[0]] == Mechanic.FIRST_N.value else row[10]
                paid = row[12]
            else:
                counted = row[7] if mechanic[row[0]] == Mechanic.FIRST_N.value else row[8]
                paid = row[11]
            state.counted, state.paid = int(counted), int(paid)
    return usage


_LOCK = (
    select(Campaign.__table__.c.id, Campaign.__table__.c.spent, Campaign.__table__.c.status)
    .where(Campaign.__table__.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(Campaign.__table__.c.id)
    .with_for_update()
)


@functools.cache
def _usage_statement():
    """Per campaign: the person's and the shop's points today, this week and in the period, and
    the packages counted (the shop's or the person's, of this product or all). Built once."""
    a = CampaignAward.__table__.c
    mine = a.person_id == bindparam("person")
    shop = a.outlet_id == bindparam("shop")
    day = a.created_at >= bindparam("day", type_=UTCDateTime())
    week = a.created_at >= bindparam("week", type_=UTCDateTime())
    same_sku = a.sku == bindparam("sku")
    paid = a.points > 0
    return (
        select(
            a.campaign_id,
            _sum(mine & day),
            _sum(mine & week),
            _sum(mine),
            _sum(shop & day),
            _sum(shop & week),
            _sum(shop),
            _count(shop & same_sku),
            _count(shop),
            _count(mine & same_sku),
            _count(mine),
            _count(shop & paid),
            _count(mine & paid),
        )
        .where(a.campaign_id.in_(bindparam("ids", expanding=True)), or_(mine, shop))
        .group_by(a.campaign_id)
    )


def _sum(condition):
    return func.coalesce(func.sum(case((condition, CampaignAward.__table__.c.points), else_=0)), 0)


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


_SPEND = (
    update(Campaign.__table__)
    .where(
        Campaign.__table__.c.id == bindparam("cid"),
        Campaign.__table__.c.spent + bindparam("p") <= Campaign.__table__.c.budget,
    )
    .values(spent=Campaign.__table__.c.spent + bindparam("p"))
)


def _spend(session: Session, chosen: list[tuple[Rule, int]], usage: dict[int, _Usage], at: datetime) -> None:
    """The budgets move in one executemany; the rows are locked, so what was read plus what is
    given is what they hold now (and `_room` kept it within the budget)."""
    table = Campaign.__table__
    session.execute(_SPEND, [{"cid": rule.id, "p": points} for rule, points in chosen])
    for rule, points in chosen:
        if rule.budget is not None and usage[rule.id].spent + points >= rule.budget:
            session.execute(
                update(table)
                .where(table.c.id == rule.id, table.c.status == Status.RUNNING.value)
                .values(status=Status.STOPPED.value, stop_reason="budget", stopped_at=at)
            )
            bump_version(session)


def release_awards(session: Session, registration_id: int) -> int:
    """A rejected registration gives back what its campaigns took from budgets and caps.
    Answers the points released. A campaign that had stopped for its budget runs again."""
    awards = CampaignAward.__table__
    rows = session.execute(
        select(awards.c.campaign_id, func.sum(awards.c.points))
        .where(awards.c.registration_id == registration_id)
        .group_by(awards.c.campaign_id)
        .order_by(awards.c.campaign_id)
    ).all()
    if not rows:
        return 0
    table = Campaign.__table__
    session.execute(
        select(table.c.id).where(table.c.id.in_([r[0] for r in rows])).order_by(table.c.id).with_for_update()
    ).all()
    released = 0
    revived = False
    for campaign_id, points in rows:
        points = int(points or 0)
        released += points
        if points:
            session.execute(  # only a budget keeps a `spent` (the others' stays 0)
                update(table)
                .where(table.c.id == campaign_id, table.c.budget.is_not(None))
                .values(spent=table.c.spent - points)
            )
            result = session.execute(
                update(table)
                .where(
                    table.c.id == campaign_id,
                    table.c.status == Status.STOPPED.value,
                    table.c.stop_reason == "budget",
                    table.c.spent < table.c.budget,
                )
                .values(status=Status.RUNNING.value, stop_reason=None, stopped_at=None)
            )
            # An UPDATE's result is a CursorResult (it has the rowcount); Session.execute is typed Result.
            revived = revived or cast(CursorResult[Any], result).rowcount > 0
    session.execute(delete(awards).where(awards.c.registration_id == registration_id))
    if revived:
        bump_version(session)
    return released
