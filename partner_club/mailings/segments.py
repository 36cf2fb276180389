"""Segments: who a mailing or a call list reaches, as criteria joined by AND.

A segment is a plain dict kept as JSON on the mailing:

    {"regions": [region ids], "territories": [territory ids], "kinds": [shop kinds],
     "roles": ["owner", "seller"], "inactive_days": 30, "active_days": 7,
     "rfm": ["sleeping", ...], "shops": ["external id", ...]}

An empty or missing criterion does not narrow; values inside one criterion
are alternatives (OR). The audience is active owners and sellers of active
shops, always within a scope: a WHERE clause on `Outlet`, the viewer's own
(`outlet_filter`) while a segment is being built, the mailing's stored region
once it is written (`mailings.services.mailing_scope`).

Facts the core does not hold come from higher packages through two small
hooks set at import time: codes gives registration activity
(`provide_activity`), reports gives the RFM classes of shops
(`provide_outlet_classes`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import Session

from partner_club.accounts.access import EVERYTHING
from partner_club.accounts.models import Role, User, UserStatus, role_label
from partner_club.errors import Forbidden, Invalid
from partner_club.outlets.kinds import kind_label, outlet_kinds
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region, Territory

ROLES = (Role.OWNER.value, Role.SELLER.value)
MAX_DAYS = 3650
MAX_SHOPS = 5000  # a pasted list longer than this is a mistake: use regions or territories


@dataclass(frozen=True)
class Activity:
    """Registration facts, given by the package that keeps registrations."""

    # a SELECT of the ids of people who registered something at or after the moment
    registered_since: Callable[[datetime], Select[Any]]
    # user id -> the time of the person's last registration, for the given people
    last_registrations: Callable[[Session, list[int]], dict[int, datetime]]


@dataclass(frozen=True)
class OutletClasses:
    """A classification of shops (e.g. RFM), given by the package that computes it."""

    labels: Mapping[str, Any]  # key -> lazy label, in display order
    # shop id -> class key, as of a day; shops missing from the answer get `default`
    classify: Callable[[Session, date], dict[int, str]]
    default: str


_ACTIVITY: list[Activity] = []
OUTLET_CLASSES: dict[str, OutletClasses] = {}


def provide_activity(activity: Activity) -> None:
    _ACTIVITY[:] = [activity]


def provide_outlet_classes(name: str, classes: OutletClasses) -> None:
    OUTLET_CLASSES[name] = classes


def activity() -> Activity | None:
    return _ACTIVITY[0] if _ACTIVITY else None


@dataclass(frozen=True)
class Audience:
    people: int
    shops: int


def _ints(values: Any) -> list[int]:
    if not isinstance(values, list | tuple):
        return []
    out = []
    for value in values:
        try:
            out.append(int(value))
        except (TypeError, ValueError):
            raise Invalid(_("A segment's list holds something that is not a number.")) from None
    return sorted(set(out))


def _strings(values: Any) -> list[str]:
    if not isinstance(values, list | tuple):
        return []
    return sorted({str(v).strip() for v in values if str(v).strip()})


def _days(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise Invalid(_("The number of days must be a whole number.")) from None
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(_("The number of days must be between 1 and %(most)s.", most=MAX_DAYS))
    return days


def parse_shop_list(text: str) -> list[str]:
    """External ids pasted one a line, or separated by commas, semicolons or spaces."""
    return sorted({part for part in re.split(r"[\s,;]+", text or "") if part})


def clean(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A segment with only known keys and values of the right type; bad values are refused."""
    segment: dict[str, Any] = {
        "regions": _ints(raw.get("regions")),
        "territories": _ints(raw.get("territories")),
        "kinds": _strings(raw.get("kinds")),
        "roles": [r for r in _strings(raw.get("roles")) if r in ROLES],
        "inactive_days": _days(raw.get("inactive_days")),
        "active_days": _days(raw.get("active_days")),
        "rfm": _strings(raw.get("rfm")),
        "shops": _strings(raw.get("shops")),
    }
    if len(segment["shops"]) > MAX_SHOPS:
        raise Invalid(_("A list of shops may hold at most %(most)s shops.", most=MAX_SHOPS))
    rfm = OUTLET_CLASSES.get("rfm")
    unknown = [key for key in segment["rfm"] if rfm is None or key not in rfm.labels]
    if unknown:
        raise Invalid(_("Unknown RFM segment: %(keys)s.", keys=", ".join(unknown)))
    if (segment["inactive_days"] or segment["active_days"]) and activity() is None:
        raise Invalid(_("Registration activity is not available here."))
    return {key: value for key, value in segment.items() if value}


def check_scope(session: Session, segment: Mapping[str, Any], viewer: User) -> None:
    """Refuses a segment naming a region, territory or shop outside the viewer's scope."""
    shops = set(segment.get("shops", ()))
    if Role(viewer.role) in EVERYTHING:
        missing = sorted(shops - set(_regions_of_shops(session, shops)))
        if missing:
            raise Invalid(_("No shop has these ids: %(shops)s.", shops=", ".join(missing[:20])))
        return
    if Role(viewer.role) is not Role.REGIONAL_MANAGER or viewer.region_id is None:
        raise Forbidden(_("Only staff who look after a region can send mailings."))
    foreign_regions = [r for r in segment.get("regions", ()) if r != viewer.region_id]
    if foreign_regions:
        raise Forbidden(_("The segment names a region outside yours."))
    territories = segment.get("territories", ())
    if territories:
        inside = session.scalar(
            select(func.count())
            .select_from(Territory)
            .where(Territory.id.in_(territories), Territory.region_id == viewer.region_id)
        )
        if inside != len(territories):
            raise Forbidden(_("The segment names a territory outside your region."))
    # An unknown id and another region's shop get the same answer: a manager cannot learn
    # which ids exist in other regions.
    theirs = {
        shop for shop, region_id in _regions_of_shops(session, shops).items() if region_id == viewer.region_id
    }
    elsewhere = sorted(shops - theirs)
    if elsewhere:
        raise Forbidden(
            _("No shop of your region has these ids: %(shops)s.", shops=", ".join(elsewhere[:20]))
        )


def _regions_of_shops(session: Session, shops: Iterable[str]) -> dict[str, int]:
    """External id -> region id, for the shops that exist."""
    wanted = list(shops)
    if not wanted:
        return {}
    rows = session.execute(select(Outlet.external_id, Outlet.region_id).where(Outlet.external_id.in_(wanted)))
    return {str(external_id): int(region_id) for external_id, region_id in rows}


def criteria(
    session: Session, segment: Mapping[str, Any], scope: ColumnElement[bool], now: datetime
) -> list[ColumnElement[bool]]:
    """WHERE clauses on `User` joined to `Outlet` that pick the segment's people within `scope`
    (a WHERE clause on `Outlet`)."""
    roles = segment.get("roles") or list(ROLES)
    where: list[ColumnElement[bool]] = [
        User.status == UserStatus.ACTIVE.value,
        User.role.in_(roles),
        Outlet.active.is_(True),
        scope,
    ]
    if segment.get("regions"):
        where.append(Outlet.region_id.in_(segment["regions"]))
    if segment.get("territories"):
        where.append(Outlet.territory_id.in_(segment["territories"]))
    if segment.get("kinds"):
        where.append(Outlet.kind.in_(segment["kinds"]))
    if segment.get("shops"):
        where.append(Outlet.external_id.in_(segment["shops"]))
    source = activity()
    if segment.get("inactive_days"):
        if source is None:
            where.append(false())
        else:
            since = now - timedelta(days=int(segment["inactive_days"]))
            where.append(User.id.not_in(source.registered_since(since)))
    if segment.get("active_days"):
        if source is None:
            where.append(false())
        else:
            since = now - timedelta(days=int(segment["active_days"]))
            where.append(User.id.in_(source.registered_since(since)))
    if segment.get("rfm"):
        where.append(_in_classes(session, "rfm", segment["rfm"], now))
    return where


def _in_classes(session: Session, name: str, chosen: Iterable[str], now: datetime) -> ColumnElement[bool]:
    classes = OUTLET_CLASSES.get(name)
    if classes is None:
        return false()
    chosen = set(chosen)
    by_outlet = classes.classify(session, now.date())
    ids = sorted(outlet_id for outlet_id, key in by_outlet.items() if key in chosen)
    clause: ColumnElement[bool] = Outlet.id.in_(ids)
    if classes.default in chosen:  # shops the classification never saw
        clause = or_(clause, Outlet.id.not_in(sorted(by_outlet)))
    return clause


def people_query(
    session: Session, segment: Mapping[str, Any], scope: ColumnElement[bool], now: datetime
) -> Select[int, int | None]:
    """SELECT of (user id, outlet id) of the segment's people."""
    return (
        select(User.id, User.outlet_id)
        .join(Outlet, Outlet.id == User.outlet_id)
        .where(and_(*criteria(session, segment, scope, now)))
    )


def audience_size(
    session: Session, segment: Mapping[str, Any], scope: ColumnElement[bool], now: datetime
) -> Audience:
    people = people_query(session, segment, scope, now).subquery()
    row = session.execute(
        select(func.count(), func.count(func.distinct(people.c.outlet_id))).select_from(people)
    ).one()
    return Audience(people=int(row[0]), shops=int(row[1]))


def audience_by_locale(
    session: Session,
    segment: Mapping[str, Any],
    scope: ColumnElement[bool],
    now: datetime,
    default_locale: str,
) -> dict[str, int]:
    """People of the segment per language they read ("ru", "en")."""
    people = people_query(session, segment, scope, now).subquery()
    counts = {"ru": 0, "en": 0}
    for locale, count in session.execute(
        select(User.locale, func.count()).join(people, people.c.id == User.id).group_by(User.locale)
    ):
        key = locale if locale in counts else default_locale
        counts[key if key in counts else "ru"] += int(count)
    return counts


def describe(session: Session, segment: Mapping[str, Any], locale: str) -> list[str]:
    """The segment in words, one line per criterion, for the pages and the call list's reason."""
    from_names = _names(session, segment, locale)
    lines = []
    if segment.get("regions"):
        lines.append(_("Regions: %(names)s", names=from_names["regions"]))
    if segment.get("territories"):
        lines.append(_("Territories: %(names)s", names=from_names["territories"]))
    if segment.get("kinds"):
        kinds = outlet_kinds(session)
        names = ", ".join(kind_label(kinds, key, locale) for key in segment["kinds"])
        lines.append(_("Kinds of shop: %(names)s", names=names))
    if segment.get("roles"):
        lines.append(_("Roles: %(names)s", names=", ".join(role_label(r) for r in segment["roles"])))
    if segment.get("inactive_days"):
        lines.append(_("Registered nothing in %(days)s days", days=segment["inactive_days"]))
    if segment.get("active_days"):
        lines.append(_("Registered in the last %(days)s days", days=segment["active_days"]))
    if segment.get("rfm"):
        rfm = OUTLET_CLASSES.get("rfm")
        labels = [str(rfm.labels.get(k, k)) if rfm else k for k in segment["rfm"]]
        lines.append(_("RFM segments: %(names)s", names=", ".join(labels)))
    if segment.get("shops"):
        lines.append(_("Shops: %(count)s listed", count=len(segment["shops"])))
    return lines or [_("Everyone in your scope")]


def _names(session: Session, segment: Mapping[str, Any], locale: str) -> dict[str, str]:
    regions = session.scalars(select(Region).where(Region.id.in_(segment.get("regions", ())))).all()
    territories = session.scalars(
        select(Territory.name).where(Territory.id.in_(segment.get("territories", ())))
    ).all()
    return {
        "regions": ", ".join(r.name_en if locale == "en" else r.name_ru for r in regions),
        "territories": ", ".join(territories),
    }
