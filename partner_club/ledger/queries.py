"""What the points pages show: summaries, history, totals, the liability.

Read-only; scoping by role goes through `partner_club.accounts.access`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from partner_club.accounts.access import outlet_filter
from partner_club.accounts.models import Role, User
from partner_club.ledger.announce import NOTICE_DAYS
from partner_club.ledger.models import Account, LedgerEntry, PointLot
from partner_club.ledger.policy import point_value
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region, Territory

PER_PAGE = 20

KIND_LABELS = {
    "accrual": _l("Points earned"),
    "action": _l("Points for an action"),
    "redemption": _l("Points spent"),
    "refund": _l("Points refunded"),
    "expiry": _l("Points expired"),
    "reversal": _l("Entry reversed"),
    "adjustment": _l("Manual adjustment"),
    "confirmation": _l("Points confirmed after review"),
    "rejection": _l("Points rejected after review"),
}
PENDING_KIND_LABELS = {"accrual": _l("Points held for review")}
CAUSE_LABELS = {
    "registration": _l("code registration"),
    "order": _l("prize order"),
    "action": _l("action"),
    "campaign": _l("campaign"),
    "adjustment": _l("correction by the club"),
    "expiry": _l("expiry date"),
}

# Other packages may say more about their causes (a product's name for a
# registration): cause_type -> function(session, [cause ids]) -> {cause id: text}.
CAUSE_DETAILS: dict[str, Callable[[Session, list[str]], dict[str, str]]] = {}


@dataclass(frozen=True)
class Summary:
    active: int
    pending: int
    next_expiry_points: int = 0
    next_expiry_at: datetime | None = None
    expiring_soon: int = 0  # points expiring within NOTICE_DAYS


@dataclass(frozen=True)
class HistoryLine:
    entry: LedgerEntry
    title: str
    cause: str


@dataclass
class Page:
    items: list[Any]
    page: int
    pages: int
    total: int


def summary(session: Session, account: Account | None, now: datetime) -> Summary:
    if account is None:
        return Summary(0, 0)
    live = (PointLot.account_id == account.id, PointLot.remaining > 0, PointLot.expires_at > now)
    first = session.scalar(select(func.min(PointLot.expires_at)).where(*live))
    next_points = 0
    if first is not None:
        next_points = (
            session.scalar(select(func.sum(PointLot.remaining)).where(*live, PointLot.expires_at == first))
            or 0
        )
    soon = (
        session.scalar(
            select(func.sum(PointLot.remaining)).where(
                *live, PointLot.expires_at <= now + timedelta(days=NOTICE_DAYS)
            )
        )
        or 0
    )
    return Summary(account.active, account.pending, int(next_points), first, int(soon))


def expiring(
    session: Session, account: Account | None, now: datetime, limit: int = 3
) -> list[tuple[datetime, int]]:
    """The next expiry dates of the account's points and how many points each takes."""
    if account is None:
        return []
    rows = session.execute(
        select(PointLot.expires_at, func.sum(PointLot.remaining))
        .where(PointLot.account_id == account.id, PointLot.remaining > 0, PointLot.expires_at > now)
        .group_by(PointLot.expires_at)
        .order_by(PointLot.expires_at)
        .limit(limit)
    ).all()
    return [(at, int(points)) for at, points in rows]


def history(session: Session, account: Account | None, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """An account's entries, newest first, each with a title and its cause in words."""
    if account is None:
        return Page([], 1, 1, 0)
    total = session.scalar(
        select(func.count()).select_from(LedgerEntry).where(LedgerEntry.account_id == account.id)
    )
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    entries = session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.account_id == account.id)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return Page(describe(session, entries), page, pages, total)


def describe(session: Session, entries: list[LedgerEntry]) -> list[HistoryLine]:
    details: dict[tuple[str, str], str] = {}
    by_type: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        if entry.cause_id is not None and entry.cause_type in CAUSE_DETAILS:
            by_type[entry.cause_type].add(entry.cause_id)
    for cause_type, ids in by_type.items():
        for cause_id, text in CAUSE_DETAILS[cause_type](session, sorted(ids)).items():
            details[(cause_type, cause_id)] = text
    return [
        HistoryLine(entry, _title(entry), details.get((entry.cause_type, entry.cause_id)) or _cause(entry))
        for entry in entries
    ]


def _title(entry: LedgerEntry) -> str:
    if entry.bucket == "pending" and entry.kind in PENDING_KIND_LABELS:
        return str(PENDING_KIND_LABELS[entry.kind])
    return str(KIND_LABELS.get(entry.kind, entry.kind))


def _cause(entry: LedgerEntry) -> str:
    label = str(CAUSE_LABELS.get(entry.cause_type, entry.cause_type))
    if entry.cause_id and entry.cause_type not in ("expiry", "adjustment"):
        return f"{label} #{entry.cause_id}"
    return label


# --- people and shops -----------------------------------------------------


@dataclass(frozen=True)
class PersonPoints:
    user: User
    active: int
    pending: int


def outlet_people_points(session: Session, outlet: Outlet) -> list[PersonPoints]:
    """The owner's view: each person of the shop with their balances."""
    rows = session.execute(
        select(User, func.coalesce(Account.active, 0), func.coalesce(Account.pending, 0))
        .outerjoin(Account, Account.user_id == User.id)
        .where(User.outlet_id == outlet.id, User.role.in_((Role.OWNER.value, Role.SELLER.value)))
        .order_by(User.full_name, User.id)
    ).all()
    return [PersonPoints(user, int(active), int(pending)) for user, active, pending in rows]


@dataclass(frozen=True)
class OutletTotals:
    outlet: Outlet
    people: int
    active: int
    pending: int


def outlet_totals(session: Session, viewer: User) -> list[OutletTotals]:
    """Points held by each shop the viewer may see: its people's plus the shop account's."""
    person = (
        select(
            User.outlet_id.label("outlet_id"),
            func.count(Account.id).label("people"),
            func.sum(Account.active).label("active"),
            func.sum(Account.pending).label("pending"),
        )
        .join(Account, Account.user_id == User.id)
        .group_by(User.outlet_id)
        .subquery()
    )
    shop = aliased(Account)
    rows = session.execute(
        select(
            Outlet,
            func.coalesce(person.c.people, 0),
            func.coalesce(person.c.active, 0) + func.coalesce(shop.active, 0),
            func.coalesce(person.c.pending, 0) + func.coalesce(shop.pending, 0),
        )
        .outerjoin(person, person.c.outlet_id == Outlet.id)
        .outerjoin(shop, shop.outlet_id == Outlet.id)
        .where(outlet_filter(viewer))
        .order_by(Outlet.name, Outlet.id)
    ).all()
    return [
        OutletTotals(outlet, int(people), int(active), int(pending))
        for outlet, people, active, pending in rows
    ]


# --- the liability ---------------------------------------------------------

AGE_BUCKETS = (  # (upper bound in days, label)
    (90, _l("under 3 months")),
    (180, _l("3 to 6 months")),
    (365, _l("6 to 12 months")),
    (None, _l("over 12 months")),
)


@dataclass
class Liability:
    active: int = 0
    pending: int = 0
    by_age: list[tuple[str, int]] = field(default_factory=list)
    by_region: list[tuple[str, int, int]] = field(default_factory=list)  # name, active, pending
    value_per_point: Decimal = Decimal("1")
    currency: str = "RUB"

    def money(self, points: int) -> Decimal:
        return (self.value_per_point * points).quantize(Decimal("0.01"))


def _region_of_account():
    """A column: the region an account belongs to (shop's, person's shop's, or person's territory's)."""
    holder = aliased(User)
    own_shop, person_shop = aliased(Outlet), aliased(Outlet)
    territory = aliased(Territory)
    region_id = func.coalesce(own_shop.region_id, person_shop.region_id, territory.region_id)
    joined = (
        select(Account.id.label("account_id"), region_id.label("region_id"))
        .outerjoin(own_shop, own_shop.id == Account.outlet_id)
        .outerjoin(holder, holder.id == Account.user_id)
        .outerjoin(person_shop, person_shop.id == holder.outlet_id)
        .outerjoin(territory, territory.id == holder.territory_id)
    ).subquery()
    return joined


def liability(
    session: Session, now: datetime, *, region_id: int | None = None, locale: str | None = "ru"
) -> Liability:
    """Points outstanding (active, by age of earning and by region; pending) and their money value."""
    regions = _region_of_account()
    scope = [] if region_id is None else [regions.c.region_id == region_id]
    age_case = case(
        *[
            (PointLot.earned_at > now - timedelta(days=days), index)
            for index, (days, _label) in enumerate(AGE_BUCKETS)
            if days is not None
        ],
        else_=len(AGE_BUCKETS) - 1,
    )
    ages = dict(
        session.execute(
            select(age_case, func.sum(PointLot.remaining))
            .join(regions, regions.c.account_id == PointLot.account_id)
            .where(PointLot.remaining > 0, *scope)
            .group_by(age_case)
        ).all()
    )
    region_rows = session.execute(
        select(Region, func.sum(Account.active), func.sum(Account.pending))
        .select_from(Account)
        .join(regions, regions.c.account_id == Account.id)
        .outerjoin(Region, Region.id == regions.c.region_id)
        .where(*scope)
        .group_by(Region.id)
        .order_by(func.sum(Account.active).desc())
    ).all()
    value = point_value(session)
    result = Liability(value_per_point=value.amount, currency=value.currency)
    result.by_age = [
        (str(label), int(ages.get(index, 0) or 0)) for index, (_days, label) in enumerate(AGE_BUCKETS)
    ]
    for region, active, pending in region_rows:
        name = region.name(locale) if region is not None else str(_l("no region"))
        result.by_region.append((name, int(active or 0), int(pending or 0)))
        result.active += int(active or 0)
        result.pending += int(pending or 0)
    return result
