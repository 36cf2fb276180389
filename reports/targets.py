"""Targets: set one, or load many from a CSV; every bad line is reported by number.

CSV columns: `scope,code,metric,period,value` where scope is `region`
(code: ISO code such as RU-TA), `territory` (code: `RU-TA:Territory name`)
or `shop` (code: the shop's external id). A file with any bad line writes
nothing, so a fixed file can simply be loaded again.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from partner_club.accounts.models import User
from partner_club.audit.services import record
from partner_club.errors import DomainError, Invalid, NotFound
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region, Territory
from reports.kpi import METRICS
from reports.models import ScopeKind, Target
from reports.periods import parse_period

COLUMNS = ("scope", "code", "metric", "period", "value")


@dataclass
class ImportResult:
    saved: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, message)


def parse_value(raw: str) -> float:
    try:
        value = float(str(raw).strip().replace(",", ".").replace("\u202f", "").replace(" ", ""))
    except ValueError:
        raise Invalid(_("“%(value)s” is not a number.", value=str(raw)[:20]), code="bad_value") from None
    if value < 0 or value != value:
        raise Invalid(_("A target cannot be negative."), code="bad_value")
    return value


def _metric(key: str) -> str:
    key = (key or "").strip()
    if key not in METRICS:
        raise Invalid(
            _(
                "Unknown metric “%(metric)s”: use one of %(names)s.",
                metric=key[:40],
                names=", ".join(METRICS),
            ),
            code="unknown_metric",
        )
    return key


def resolve_scope(session: Session, scope: str, code: str) -> tuple[str, int]:
    scope, code = (scope or "").strip().lower(), (code or "").strip()
    if scope == "region":
        region_id = session.scalar(select(Region.id).where(Region.iso_code == code.upper()))
        if region_id is None:
            raise NotFound(_("Unknown region “%(code)s”.", code=code[:20]), code="unknown_region")
        return ScopeKind.REGION.value, region_id
    if scope == "territory":
        iso, _sep, name = code.partition(":")
        territory_id = session.scalar(
            select(Territory.id)
            .join(Region)
            .where(Region.iso_code == iso.strip().upper(), Territory.name == name.strip())
        )
        if territory_id is None:
            raise NotFound(
                _("Unknown territory “%(code)s” (write REGION-ISO:Territory name).", code=code[:80]),
                code="unknown_territory",
            )
        return ScopeKind.TERRITORY.value, territory_id
    if scope in ("shop", "outlet"):
        outlet_id = session.scalar(select(Outlet.id).where(Outlet.external_id == code))
        if outlet_id is None:
            raise NotFound(_("Unknown shop “%(code)s”.", code=code[:40]), code="unknown_shop")
        return ScopeKind.OUTLET.value, outlet_id
    raise Invalid(
        _("Unknown scope “%(scope)s”: use region, territory or shop.", scope=scope[:20]), code="unknown_scope"
    )


def set_target(
    session: Session,
    *,
    scope_kind: str,
    scope_id: int,
    metric: str,
    period: str,
    value: float,
    actor: User | None = None,
) -> Target:
    """Creates or replaces the target of one metric, scope and period."""
    metric = _metric(metric)
    period_key = parse_period(period).key
    if value < 0:
        raise Invalid(_("A target cannot be negative."), code="bad_value")
    column = {"region": Target.region_id, "territory": Target.territory_id, "outlet": Target.outlet_id}[
        scope_kind
    ]
    target = session.scalar(
        select(Target).where(Target.metric == metric, Target.period == period_key, column == scope_id)
    )
    previous = target.value if target is not None else None
    if target is None:
        target = Target(
            metric=metric,
            period=period_key,
            scope_kind=scope_kind,
            created_by_id=actor.id if actor else None,
            **{f"{'outlet' if scope_kind == 'outlet' else scope_kind}_id": scope_id},
        )
        session.add(target)
    target.value = value
    session.flush()
    record(
        session,
        actor,
        "reports.target_set",
        target,
        metric=metric,
        period=period_key,
        scope=scope_kind,
        scope_id=scope_id,
        value=value,
        previous=previous,
    )
    return target


def import_targets(session: Session, data: bytes, *, actor: User | None = None) -> ImportResult:
    """Loads every line or none: errors come back with their line numbers."""
    result = ImportResult()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.errors.append((0, _("The file is not UTF-8 text: save it as CSV UTF-8.")))
        return result
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        result.errors.append(
            (
                1,
                _(
                    "Missing columns: %(columns)s. The first line must be %(header)s.",
                    columns=", ".join(missing),
                    header=",".join(COLUMNS),
                ),
            )
        )
        return result
    parsed = []
    for line, raw in enumerate(reader, start=2):
        try:
            kind, scope_id = resolve_scope(session, raw["scope"], raw["code"])
            parsed.append(
                dict(
                    scope_kind=kind,
                    scope_id=scope_id,
                    metric=_metric(raw["metric"]),
                    period=parse_period(raw["period"]).key,
                    value=parse_value(raw["value"]),
                )
            )
        except DomainError as error:
            result.errors.append((line, error.message))
    if not parsed and not result.errors:
        result.errors.append((2, _("The file has no targets under its header line.")))
    if result.errors:
        return result
    for values in parsed:
        set_target(session, actor=actor, **values)
    result.saved = len(parsed)
    record(session, actor, "reports.targets_imported", count=result.saved)
    return result


def delete_target(session: Session, target_id: int, *, actor: User | None = None) -> None:
    target = session.get(Target, target_id)
    if target is None:
        raise NotFound(_("That target no longer exists."))
    record(
        session,
        actor,
        "reports.target_deleted",
        target,
        metric=target.metric,
        period=target.period,
        scope=target.scope_kind,
        scope_id=target.region_id or target.territory_id or target.outlet_id,
        previous=target.value,
    )
    session.execute(delete(Target).where(Target.id == target_id))
    session.flush()
