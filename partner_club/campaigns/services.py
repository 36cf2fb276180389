"""Campaigns: create, edit, launch, pause, resume, stop; who they concern and what is left.

Every change bumps `campaigns.version`, so each process reloads its running campaigns
(see evaluate.py). Bad input raises `Invalid` with a `field` detail and nothing is saved.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from partner_club.accounts.models import Role, User, UserStatus
from partner_club.audit.services import record
from partner_club.campaigns.evaluate import Rule, bump_version
from partner_club.campaigns.models import CAP_FIELDS, Campaign, CampaignAward, Combine, Mechanic, Status
from partner_club.errors import Conflict, Invalid, NotFound
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region

DEFAULT_ZONE = "Europe/Moscow"
LIVE = (Status.DRAFT.value, Status.RUNNING.value, Status.PAUSED.value)
# Bounds that keep every sum of points well inside a 64-bit column: far above any real
# promotion, they only stop a slip of the keyboard (or a hostile request) from breaking it.
MAX_BONUS = 1_000_000  # points a bonus gives for one package
MAX_N = 1_000_000  # packages
MAX_POINTS = 1_000_000_000  # a budget or a cap


@dataclass
class CampaignData:
    """A campaign as staff describe it (form or JSON); `validate` checks it as a whole."""

    name_ru: str
    name_en: str
    starts_at: datetime
    ends_at: datetime
    mechanic: str
    value: float
    n: int | None = None
    time_zone: str = DEFAULT_ZONE
    description_ru: str = ""
    description_en: str = ""
    regions: list[str] = field(default_factory=list)
    territory_ids: list[int] = field(default_factory=list)
    shop_kinds: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    outlet_ids: list[int] = field(default_factory=list)
    skus: list[str] = field(default_factory=list)
    product_kinds: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)
    cap_person_day: int | None = None
    cap_person_week: int | None = None
    cap_person_period: int | None = None
    cap_shop_day: int | None = None
    cap_shop_week: int | None = None
    cap_shop_period: int | None = None
    budget: int | None = None
    combine: str = Combine.ADDS.value
    priority: int = 0
    control_share: float = 0.0

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignData:
        return cls(**{f.name: getattr(campaign, f.name) for f in fields(cls)})


def local_to_utc(moment: datetime, zone: str) -> datetime:
    """A time typed in `zone` (naive) as UTC; an aware time is only converted."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC)


def _bad(message: str, name: str) -> Invalid:
    return Invalid(message, code=f"bad_{name}", field=name)


def validate(session: Session, data: CampaignData, *, campaign_id: int | None = None) -> None:
    """Raises `Invalid` (with `field`) on the first problem; nothing is written."""
    if not data.name_ru.strip() or not data.name_en.strip():
        raise _bad(_("Give the campaign a name in Russian and in English."), "name")
    try:
        ZoneInfo(data.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _bad(_("Unknown time zone: %(zone)s.", zone=data.time_zone), "time_zone") from None
    if data.starts_at.tzinfo is None or data.ends_at.tzinfo is None:
        raise _bad(_("Give the start and the end with their time zone."), "starts_at")
    if data.ends_at <= data.starts_at:
        raise _bad(_("The campaign must end after it starts."), "ends_at")
    if data.mechanic not in {m.value for m in Mechanic}:
        raise _bad(_("Choose how the campaign gives points."), "mechanic")
    if data.mechanic == Mechanic.MULTIPLIER.value and not (0 < data.value <= 10):  # NaN fails too
        raise _bad(_("A multiplier must be above 0 and at most 10."), "value")
    if data.mechanic != Mechanic.MULTIPLIER.value and not (0 < data.value <= MAX_BONUS):
        raise _bad(
            _(
                "The bonus must be a positive number of points, at most %(max)s.",
                max=format_decimal(MAX_BONUS),
            ),
            "value",
        )
    if data.mechanic in (Mechanic.EVERY_NTH.value, Mechanic.ONCE_AT_N.value, Mechanic.FIRST_N.value) and (
        not data.n or not (1 <= data.n <= MAX_N)
    ):
        raise _bad(_("Give N, the number of packages, as a whole number from 1."), "n")
    if data.budget is not None and data.budget < 0:
        raise _bad(_("The budget cannot be negative."), "budget")
    if data.budget is not None and not (1 <= data.budget <= MAX_POINTS):
        raise _bad(
            _(
                "A budget is from 1 to %(max)s points; leave it empty for no budget.",
                max=format_decimal(MAX_POINTS),
            ),
            "budget",
        )
    for name in CAP_FIELDS:
        if getattr(data, name) is not None and getattr(data, name) < 0:
            raise _bad(_("A cap cannot be negative."), name)
        if getattr(data, name) is not None and getattr(data, name) > MAX_POINTS:
            raise _bad(_("A cap is at most %(max)s points.", max=format_decimal(MAX_POINTS)), name)
    if data.combine not in {c.value for c in Combine}:
        raise _bad(_("Choose how the campaign combines with others."), "combine")
    if not (0 <= data.control_share <= 0.5):
        raise _bad(_("The control group can be at most half of the audience."), "control_share")
    unknown_roles = set(data.roles) - {Role.OWNER.value, Role.SELLER.value}
    if unknown_roles:
        raise _bad(_("Campaigns are for shop owners and sellers only."), "roles")
    if campaign_id is not None and data.budget is not None:
        spent = session.scalar(select(Campaign.spent).where(Campaign.id == campaign_id)) or 0
        if data.budget < spent:
            raise _bad(
                ngettext(
                    "The campaign has already spent %(num)d point: the budget cannot be less.",
                    "The campaign has already spent %(num)d points: the budget cannot be less.",
                    spent,
                ),
                "budget",
            )
    size = audience_size(session, data)
    if size["shops"] == 0:
        raise _bad(_("The audience matches no shop: widen the regions, kinds or shops."), "audience")
    if size["people"] == 0:
        raise _bad(
            _("No active owner or seller in these shops has the chosen roles: widen the audience."),
            "audience",
        )
    named = data.skus or data.product_kinds or data.packages
    if named and _products_matching is not None and _products_matching(session, data) == 0:
        raise _bad(_("No product has these SKUs, product kinds and packages together: check them."), "skus")
    if data.combine == Combine.EXCLUSIVE.value:
        clash = session.scalar(
            select(Campaign.id)
            .where(
                Campaign.combine == Combine.EXCLUSIVE.value,
                Campaign.priority == data.priority,
                # One stopped for its budget runs again when a rejection gives points back.
                or_(
                    Campaign.status.in_(LIVE),
                    (Campaign.status == Status.STOPPED.value) & (Campaign.stop_reason == "budget"),
                ),
                Campaign.starts_at < data.ends_at,
                Campaign.ends_at > data.starts_at,
                Campaign.id != (campaign_id or 0),
            )
            .limit(1)
        )
        if clash is not None:
            other = session.get_one(Campaign, clash)
            raise _bad(
                _(
                    "Another exclusive campaign with priority %(priority)s overlaps this period: "
                    "“%(name)s”. Give one of them another priority.",
                    priority=data.priority,
                    name=other.name(get_locale()),
                ),
                "priority",
            )


# How many products a campaign's SKUs, kinds and packages match, and the products' names by
# SKU: the products are codes' (which imports this package, not the other way), so codes
# provides both.
_products_matching: Callable[[Session, CampaignData], int] | None = None
_product_names: Callable[[Session, list[str]], dict[str, str]] | None = None


def provide_product_count(count: Callable[[Session, CampaignData], int]) -> None:
    global _products_matching
    _products_matching = count


def provide_product_names(names: Callable[[Session, list[str]], dict[str, str]]) -> None:
    global _product_names
    _product_names = names


def audience_shops(data: CampaignData):
    query = select(Outlet.id).where(Outlet.active.is_(True))
    if data.regions:
        query = query.join(Region, Region.id == Outlet.region_id).where(Region.iso_code.in_(data.regions))
    if data.territory_ids:
        query = query.where(Outlet.territory_id.in_(data.territory_ids))
    if data.shop_kinds:
        query = query.where(Outlet.kind.in_(data.shop_kinds))
    if data.outlet_ids:
        query = query.where(Outlet.id.in_(data.outlet_ids))
    return query


def audience_size(session: Session, data: CampaignData) -> dict[str, int]:
    """Shops and people the audience reaches (before the control group is left out)."""
    shops = audience_shops(data).subquery()
    shop_count = session.scalar(select(func.count()).select_from(shops)) or 0
    roles = data.roles or [Role.OWNER.value, Role.SELLER.value]
    people = session.scalar(
        select(func.count(User.id)).where(
            User.outlet_id.in_(select(shops.c.id)),
            User.role.in_(roles),
            User.status == UserStatus.ACTIVE.value,
        )
    )
    return {"shops": shop_count, "people": people or 0}


def _apply(campaign: Campaign, data: CampaignData) -> None:
    for f in fields(CampaignData):
        setattr(campaign, f.name, getattr(data, f.name))


def create_campaign(session: Session, data: CampaignData, *, actor: User | None) -> Campaign:
    validate(session, data)
    campaign = Campaign(created_by_id=actor.id if actor else None, control_seed=secrets.randbelow(1 << 30))
    _apply(campaign, data)
    session.add(campaign)
    session.flush()
    record(session, actor, "campaign.create", campaign)
    bump_version(session)
    return campaign


def update_campaign(
    session: Session, campaign: Campaign, data: CampaignData, *, actor: User | None, now: datetime
) -> Campaign:
    """A draft changes freely; a running or paused one keeps its earlier awards and the
    change applies from `now` (kept in `changed_at` for the page to say)."""
    if effective_status(campaign, now) not in LIVE:  # over reads as ended before end-due runs
        raise Conflict(_("A stopped or ended campaign cannot be changed."), code="campaign_closed")
    validate(session, data, campaign_id=campaign.id)
    _apply(campaign, data)
    if campaign.status != Status.DRAFT.value:
        campaign.changed_at = now
    session.flush()
    record(session, actor, "campaign.update", campaign)
    bump_version(session)
    return campaign


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("No such campaign."))
    return campaign


_MOVES = {
    "launch": ({Status.DRAFT.value}, Status.RUNNING.value),
    "pause": ({Status.RUNNING.value}, Status.PAUSED.value),
    "resume": ({Status.PAUSED.value}, Status.RUNNING.value),
    "stop": ({Status.RUNNING.value, Status.PAUSED.value}, Status.STOPPED.value),
}


def move(session: Session, campaign: Campaign, action: str, *, actor: User | None, now: datetime) -> Campaign:
    """launch | pause | resume | stop."""
    allowed, target = _MOVES[action]
    if effective_status(campaign, now) not in allowed:
        raise Conflict(
            _("A campaign that is %(status)s cannot be changed that way.", status=campaign.status_label),
            code="bad_transition",
        )
    if action == "launch":
        validate(session, CampaignData.of(campaign), campaign_id=campaign.id)
        if _aware(campaign.ends_at) <= now:
            raise Conflict(
                _("The campaign's period is over: give it a new end before launching it."),
                code="campaign_period_over",
            )
        campaign.launched_at = now
    if action == "stop":
        campaign.stopped_at, campaign.stop_reason = now, "staff"
    campaign.status = target
    session.flush()
    record(session, actor, f"campaign.{action}", campaign)
    bump_version(session)
    return campaign


def end_due_campaigns(session: Session, now: datetime) -> list[int]:
    """Running and paused campaigns whose period is over become `ended` (a periodic job calls
    this; `flask campaigns end-due` too). Answers the ids ended; idempotent."""
    due = list(
        session.scalars(
            select(Campaign)
            .where(Campaign.status.in_((Status.RUNNING.value, Status.PAUSED.value)), Campaign.ends_at <= now)
            .order_by(Campaign.id)
            .with_for_update(skip_locked=True)
        )
    )
    for campaign in due:
        campaign.status = Status.ENDED.value
        record(session, None, "campaign.end", campaign, ended_at=now.isoformat())
    if due:
        session.flush()
        bump_version(session)
    return [campaign.id for campaign in due]


def effective_status(campaign: Campaign, now: datetime) -> str:
    """Running and paused campaigns whose period is over read as ended."""
    if campaign.status in (Status.RUNNING.value, Status.PAUSED.value) and now >= _aware(campaign.ends_at):
        return Status.ENDED.value
    return campaign.status


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def list_campaigns(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.starts_at.desc(), Campaign.id.desc())))


@dataclass(frozen=True)
class Live:
    points: int
    registrations: int
    people: int
    budget_left: int | None


def live_figures(session: Session, campaign: Campaign) -> Live:
    a = CampaignAward
    row = session.execute(
        select(
            func.coalesce(func.sum(a.points), 0),
            func.count(func.distinct(a.registration_id)).filter(a.points > 0),
            func.count(func.distinct(a.person_id)).filter(a.points > 0),
        ).where(a.campaign_id == campaign.id)
    ).one()
    left = None if campaign.budget is None else campaign.budget - campaign.spent
    return Live(points=int(row[0]), registrations=int(row[1]), people=int(row[2]), budget_left=left)


# --- what a participant sees --------------------------------------------------------------


MAX_PRODUCTS_SHOWN = 5  # a first-N card lists at most this many products


@dataclass(frozen=True)
class ProductLeft:
    sku: str
    name: str
    left: int  # the shop's packages of this product that still earn the bonus


@dataclass(frozen=True)
class Progress:
    campaign: Campaign
    days_left: int
    cap_left: int | None  # points the person's period cap still allows
    packages_to_bonus: int | None  # every_nth / once_at_n: packages until the next bonus
    bonus_each: int | None = None  # first_n: N, the packages of each product that earn the bonus
    # first_n: what is left of each product the campaign names (or, naming none, the shop began),
    # at most MAX_PRODUCTS_SHOWN of them, and how many more there are
    bonus_left: tuple[ProductLeft, ...] = ()
    more_products: int = 0


def campaigns_for(session: Session, person: User, *, now: datetime) -> list[Progress]:
    """Running campaigns whose audience includes the person, with what is left of each."""
    outlet = session.get(Outlet, person.outlet_id) if person.outlet_id else None
    region_iso = outlet.region.iso_code if outlet else None
    rows = session.scalars(
        select(Campaign)
        .where(Campaign.status == Status.RUNNING.value, Campaign.ends_at > now, Campaign.starts_at <= now)
        .order_by(Campaign.ends_at, Campaign.id)
    ).all()
    answer = []
    for campaign in rows:
        rule = Rule.of(campaign)
        if not rule.concerns_person(
            region_iso=region_iso,
            territory_id=outlet.territory_id if outlet else person.territory_id,
            shop_id=outlet.id if outlet else None,
            shop_kind=outlet.kind if outlet else None,
            role=person.role,
        ) or rule.in_control(outlet.id if outlet else None):
            continue
        answer.append(_progress(session, campaign, person, outlet, now))
    return answer


def _progress(
    session: Session, campaign: Campaign, person: User, outlet: Outlet | None, now: datetime
) -> Progress:
    a = CampaignAward
    subject = a.outlet_id == outlet.id if outlet else a.person_id == person.id
    mine, counted, paid = session.execute(
        select(
            func.coalesce(func.sum(a.points).filter(a.person_id == person.id), 0),
            func.count().filter(subject),
            func.count().filter(subject, a.points > 0),
        ).where(a.campaign_id == campaign.id, or_(a.person_id == person.id, subject))
    ).one()
    days_left = max(0, (_aware(campaign.ends_at) - now + timedelta(seconds=86399)) // timedelta(days=1))
    cap_left = None if campaign.cap_person_period is None else max(0, campaign.cap_person_period - int(mine))
    to_bonus = None
    n = campaign.n or 1
    if campaign.mechanic == Mechanic.EVERY_NTH.value:  # the next bonus comes at n x (bonuses paid + 1)
        to_bonus = max(1, n * (int(paid) + 1) - counted)
    elif campaign.mechanic == Mechanic.ONCE_AT_N.value and not paid:
        to_bonus = max(1, n - counted)
    elif campaign.mechanic == Mechanic.FIRST_N.value:
        shown, more = _first_n_left(session, campaign, subject)
        return Progress(campaign, int(days_left), cap_left, None, n, shown, more)
    return Progress(campaign, int(days_left), cap_left, to_bonus)


def _first_n_left(session: Session, campaign: Campaign, subject: Any) -> tuple[tuple[ProductLeft, ...], int]:
    """First-N is counted per product: what is left of each product the campaign names, or, if
    it names none, of each the shop (or the person without one) has registered in it; the
    first MAX_PRODUCTS_SHOWN of them, and how many more there are."""
    a = CampaignAward
    counted = dict(
        session.execute(
            select(a.sku, func.count()).where(a.campaign_id == campaign.id, subject).group_by(a.sku)
        ).all()
    )
    skus = sorted(campaign.skus or counted)
    if _product_names is not None and skus:  # only products the club has (a named SKU may be gone)
        names = _product_names(session, skus)
        skus = [sku for sku in skus if sku in names]
    else:
        names = {}
    n = campaign.n or 1
    shown = tuple(
        ProductLeft(sku, names.get(sku, sku), max(0, n - counted.get(sku, 0)))
        for sku in skus[:MAX_PRODUCTS_SHOWN]
    )
    return shown, max(0, len(skus) - MAX_PRODUCTS_SHOWN)


def as_participant_json(campaign: Campaign, locale: str | None = None) -> dict[str, Any]:
    """What a participant may know of a campaign: its audience, budget and control group
    are the organizer's business."""
    return {
        "id": campaign.id,
        "name": campaign.name(locale),
        "description": campaign.description(locale),
        "starts_at": _aware(campaign.starts_at).isoformat(),
        "ends_at": _aware(campaign.ends_at).isoformat(),
        "time_zone": campaign.time_zone,
        "mechanic": {"kind": campaign.mechanic, "value": campaign.value, "n": campaign.n},
    }


def as_json(campaign: Campaign, locale: str | None = None) -> dict[str, Any]:
    """The whole campaign, for staff."""
    return as_participant_json(campaign, locale) | {
        "status": campaign.status,
        "audience": {
            "regions": campaign.regions,
            "territories": campaign.territory_ids,
            "shop_kinds": campaign.shop_kinds,
            "roles": campaign.roles,
            "shops": campaign.outlet_ids,
            "skus": campaign.skus,
            "product_kinds": campaign.product_kinds,
            "packages": campaign.packages,
        },
        "budget": campaign.budget,
        "spent": campaign.spent,
        "combine": campaign.combine,
        "priority": campaign.priority,
        "caps": {name: getattr(campaign, name) for name in CAP_FIELDS},
        "control_share": campaign.control_share,
        "changed_at": _aware(campaign.changed_at).isoformat() if campaign.changed_at else None,
    }
