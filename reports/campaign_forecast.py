"""A campaign's forecast and, after its end, its uplift against the control group.

The forecast replays the last N weeks of real registrations through the campaign (with the
campaigns running now): registrations are first summed in SQL per week, shop, product and
person's role, then each campaign's mechanic is applied per group, in week order so counts of
packages (every N-th, first N) and shop caps carry over. Per-person and per-day caps are
read as the shop's (an estimate that errs on the high side).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from math import sqrt
from typing import Any

from flask import render_template
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Integer, cast, func, literal, select
from sqlalchemy.orm import Session

from codes.models import Product, Registration, RegistrationStatus
from partner_club.accounts.models import User
from partner_club.campaigns import panels
from partner_club.campaigns.evaluate import Rule, combine, in_control_group, running_rules
from partner_club.campaigns.models import Campaign, Mechanic, Status
from partner_club.campaigns.services import CampaignData, audience_shops
from partner_club.ledger.policy import point_value
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region
from partner_club.settings_store import get_setting
from reports.analytics import line_chart

RUB_PER_POINT_KEY = "points.rub_per_point"
COUNTED = (RegistrationStatus.ACCEPTED.value, RegistrationStatus.PENDING_REVIEW.value)


@dataclass
class Forecast:
    weeks: list[datetime]  # the start of each replayed week
    points_by_week: list[int]  # the campaign's own points
    all_by_week: list[int]  # every campaign's points, this one included
    points_by_region: dict[str, int]
    registrations: int  # replayed registrations that would have earned its points
    rub_per_point: Decimal
    points: int = 0
    all_points: int = 0
    budget_reached_week: int | None = None
    regions: dict[str, str] = field(default_factory=dict)  # ISO -> name

    @property
    def money(self) -> Decimal:
        return (self.rub_per_point * self.points).quantize(Decimal("0.01"))

    def as_json(self) -> dict[str, Any]:
        return {
            "weeks": [
                {"week": w.date().isoformat(), "points": p, "all_campaigns": a}
                for w, p, a in zip(self.weeks, self.points_by_week, self.all_by_week, strict=True)
            ],
            "regions": [{"region": iso, "points": p} for iso, p in sorted(self.points_by_region.items())],
            "points": self.points,
            "all_campaigns_points": self.all_points,
            "registrations": self.registrations,
            "rub_per_point": str(self.rub_per_point),
            "money_rub": str(self.money),
            "budget_reached_week": self.budget_reached_week,
        }


def rub_per_point(session: Session) -> Decimal:
    value = get_setting(session, RUB_PER_POINT_KEY, None)
    return Decimal(str(value)) if value is not None else point_value(session).amount


def _week_index(session: Session, start: datetime):
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", Registration.created_at - start) / 604800), Integer)
    return cast(
        (func.julianday(Registration.created_at) - func.julianday(literal(start.isoformat()))) / 7, Integer
    )


def _groups(session: Session, start: datetime, end: datetime):
    """Registrations summed per week, shop, product and role; the shop's and the product's
    values come from two small lookups instead of the GROUP BY."""
    week = _week_index(session, start).label("week")
    rows = session.execute(
        select(
            week,
            Registration.outlet_id,
            Registration.product_id,
            User.role,
            func.count(),
            func.sum(Registration.points),
        )
        .join(User, User.id == Registration.participant_id)
        .where(
            Registration.created_at >= start,
            Registration.created_at < end,
            Registration.status.in_(COUNTED),
        )
        .group_by(week, Registration.outlet_id, Registration.product_id, User.role)
        .order_by(week, Registration.outlet_id, Registration.product_id)
    ).all()
    products = {
        row[0]: tuple(row[1:])
        for row in session.execute(select(Product.id, Product.sku, Product.kind, Product.package))
    }
    shops = {
        row[0]: tuple(row[1:])
        for row in session.execute(
            select(Outlet.id, Region.iso_code, Outlet.territory_id, Outlet.kind).join(
                Region, Region.id == Outlet.region_id
            )
        )
    }
    none = (None, None, None)
    for week_index, shop, product_id, role, count, base in rows:
        sku, kind, package = products[product_id]
        iso, territory, shop_kind = shops.get(shop, none)
        yield week_index, shop, sku, kind, package, iso, territory, shop_kind, role, count, base


def forecast(session: Session, campaign: Campaign, *, weeks: int, now: datetime) -> Forecast:
    """What the campaign would have cost over the last `weeks` weeks, had it been running."""
    weeks = max(1, min(weeks, 104))
    end = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(weeks=weeks)
    draft = Rule.of(campaign)
    others = [rule for rule in running_rules(session) if rule.id != campaign.id]
    rules = [draft, *others]
    result = Forecast(
        weeks=[start + timedelta(weeks=i) for i in range(weeks)],
        points_by_week=[0] * weeks,
        all_by_week=[0] * weeks,
        points_by_region=defaultdict(int),
        registrations=0,
        rub_per_point=rub_per_point(session),
    )
    counted: dict[tuple, int] = defaultdict(int)  # (rule, shop[, sku]) -> packages so far
    shop_points: dict[tuple, int] = defaultdict(int)  # (rule, shop[, week]) -> points so far
    spent = {rule.id: 0 for rule in rules}
    caps_of = {rule.id: _cap_list(rule) for rule in rules}
    # Which campaigns a kind of registration meets depends on few values, shared by many shops:
    # decided once per profile, then only the shop's own filters are checked per group.
    profiles: dict[tuple, list[Rule]] = {}
    for week, shop, sku, kind, package, iso, territory, shop_kind, role, count, base in _groups(
        session, start, end
    ):
        if not 0 <= week < weeks:
            continue
        profile = (sku, kind, package, iso, territory, shop_kind, role)
        meeting = profiles.get(profile)
        if meeting is None:
            meeting = profiles[profile] = [
                rule
                for rule in rules
                if _meets_but_shop(rule, sku, kind, package, iso, territory, shop_kind, role)
            ]
        candidates = []
        for rule in meeting:
            if (rule.outlet_ids and shop not in rule.outlet_ids) or rule.in_control(shop):
                continue
            points = _group_points(rule, shop, sku, count, int(base or 0), counted)
            points = _capped(rule, caps_of[rule.id], shop, week, points, shop_points, spent)
            candidates.append((rule, points))
        for rule, points in combine(candidates):
            spent[rule.id] += points
            result.all_by_week[week] += points
            if rule.id == draft.id:
                result.points_by_week[week] += points
                result.points_by_region[iso or "—"] += points
                result.registrations += count
                if (
                    draft.budget is not None
                    and spent[rule.id] >= draft.budget
                    and result.budget_reached_week is None
                ):
                    result.budget_reached_week = week
    result.points = sum(result.points_by_week)
    result.all_points = sum(result.all_by_week)
    result.points_by_region = dict(result.points_by_region)
    result.regions = dict(session.execute(select(Region.iso_code, Region.name_ru)).all())
    return result


def _meets_but_shop(rule: Rule, sku, kind, package, iso, territory, shop_kind, role) -> bool:
    """Everything but the shop (named shops and the control group are checked per group)."""
    return rule.covers_product(sku=sku, product_kind=kind, package=package) and (
        (not rule.regions or iso in rule.regions)
        and (not rule.territory_ids or territory in rule.territory_ids)
        and (not rule.shop_kinds or shop_kind in rule.shop_kinds)
        and (not rule.roles or role in rule.roles)
    )


def _group_points(rule: Rule, shop, sku, count: int, base: int, counted: dict) -> int:
    kind = rule.mechanic
    if kind == Mechanic.MULTIPLIER.value:
        return max(0, round(base * (rule.value - 1)))
    if kind == Mechanic.BONUS.value:
        return round(rule.value) * count
    key = (rule.id, shop, sku) if kind == Mechanic.FIRST_N.value else (rule.id, shop)
    before = counted[key]
    after = counted[key] = before + count
    n, value = rule.n or 1, round(rule.value)
    if kind == Mechanic.EVERY_NTH.value:
        return (after // n - before // n) * value
    if kind == Mechanic.ONCE_AT_N.value:
        return value if before < n <= after else 0
    return max(0, min(after, n) - before) * value  # first_n


def _cap_list(rule: Rule) -> tuple[tuple[int, bool], ...]:
    """The caps the forecast applies, as (cap, weekly): person caps are read as the shop's."""
    _pd, pw, pp, _sd, sw, sp = rule.caps
    return tuple(
        (cap, weekly) for cap, weekly in ((pp, False), (sp, False), (pw, True), (sw, True)) if cap is not None
    )


def _capped(rule: Rule, caps, shop, week: int, points: int, shop_points: dict, spent: dict) -> int:
    if not caps and rule.budget is None:
        return points
    keys = [((rule.id, shop, week if weekly else None, cap), cap) for cap, weekly in caps]
    for key, cap in keys:
        points = min(points, max(0, cap - shop_points[key]))
    if rule.budget is not None:
        points = min(points, max(0, rule.budget - spent[rule.id]))
    for key, _cap in keys:
        shop_points[key] += points
    return points


def forecast_chart(result: Forecast) -> Markup:
    labels = [w.strftime("%d.%m") for w in result.weeks]
    return line_chart(
        labels,
        {_("this campaign"): result.points_by_week, _("all campaigns"): result.all_by_week},
        title=_("Points it would have cost, by week"),
    )


# --- uplift after the end, against the control group ----------------------------------------


@dataclass(frozen=True)
class Uplift:
    shops: int
    control_shops: int
    per_shop_week: float  # extra registrations per shop per week
    low: float
    high: float
    relative: float | None  # uplift over the campaign shops' rate before

    def words(self) -> str:
        if self.control_shops < 2 or self.shops < 2:
            return _("Too few shops in the control group to measure the effect.")
        numbers = dict(value=f"{self.per_shop_week:+.2f}", low=f"{self.low:+.2f}", high=f"{self.high:+.2f}")
        if self.low > 0:
            text = _(
                "The campaign worked: its shops registered %(value)s packages per shop per week more than the "
                "shops left out (95%% sure the effect is between %(low)s and %(high)s).",
                **numbers,
            )
        elif self.high < 0:
            text = _(
                "Its shops registered fewer packages than the shops left out: %(value)s per shop per week "
                "(95%% sure between %(low)s and %(high)s).",
                **numbers,
            )
        else:
            text = _(
                "No clear effect: the difference of %(value)s packages per shop per week (between %(low)s and "
                "%(high)s) could be chance.",
                **numbers,
            )
        if self.relative is not None:
            text += " " + _(
                "That is %(percent)s of what they registered before.", percent=f"{self.relative:+.0%}"
            )
        return text


def uplift(session: Session, campaign: Campaign) -> Uplift:
    """Registrations per shop per week, during vs the same length before, campaign vs control:
    the difference of the two changes with a 95 % interval (normal approximation)."""
    start, end = campaign.starts_at, campaign.ends_at
    length = end - start
    before = start - length
    weeks = max(length / timedelta(weeks=1), 1 / 7)
    shops = [row[0] for row in session.execute(audience_shops(CampaignData.of(campaign)))]
    counts = dict.fromkeys(shops, (0, 0))
    rows = session.execute(
        select(
            Registration.outlet_id,
            func.count().filter(Registration.created_at < start),
            func.count().filter(Registration.created_at >= start),
        )
        .where(
            Registration.outlet_id.in_(shops),
            Registration.created_at >= before,
            Registration.created_at < end,
            Registration.status.in_(COUNTED),
        )
        .group_by(Registration.outlet_id)
    ).all()
    counts.update({shop: (b, d) for shop, b, d in rows})
    treated, control, base = [], [], []
    for shop, (b, d) in counts.items():
        change = (d - b) / weeks
        if in_control_group(campaign.control_seed, campaign.control_share, shop):
            control.append(change)
        else:
            treated.append(change)
            base.append(b / weeks)
    mean_t, var_t = _mean_var(treated)
    mean_c, var_c = _mean_var(control)
    effect = mean_t - mean_c
    se = sqrt(var_t / max(len(treated), 1) + var_c / max(len(control), 1))
    before_rate = sum(base) / len(base) if base else 0
    return Uplift(
        shops=len(treated),
        control_shops=len(control),
        per_shop_week=effect,
        low=effect - 1.96 * se,
        high=effect + 1.96 * se,
        relative=effect / before_rate if before_rate else None,
    )


def _mean_var(values: list[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, sum((v - mean) ** 2 for v in values) / (len(values) - 1)


def _panel(session: Session, campaign: Campaign, *, now: datetime, weeks: int) -> Markup:
    result = forecast(session, campaign, weeks=weeks, now=now)
    finished = campaign.status in (Status.STOPPED.value, Status.ENDED.value) or now >= campaign.ends_at
    return Markup(  # noqa: S704 - a Jinja template, autoescaped
        render_template(
            "reports/_campaign_forecast.html",
            result=result,
            weeks=weeks,
            chart=forecast_chart(result),
            uplift=uplift(session, campaign) if finished and campaign.control_share > 0 else None,
        )
    )


panels.PANELS["forecast"] = _panel
