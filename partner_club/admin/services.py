"""Admin operations and the searchable lists behind the admin pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from partner_club.accounts.access import outlet_filter, user_filter
from partner_club.accounts.invitations import VALID_DAYS_SETTING
from partner_club.accounts.models import Role, User
from partner_club.accounts.services import create_user
from partner_club.accounts.signup import check_position, validate_inn
from partner_club.audit.models import AuditEntry
from partner_club.audit.services import record
from partner_club.errors import Conflict, Invalid
from partner_club.outlets.models import OUTLET_KINDS, Outlet
from partner_club.regions.models import Region, Territory
from partner_club.settings_store import put_setting

STAFF_ACCOUNT_ROLES = (Role.ADMIN, Role.HEAD_OFFICE, Role.REGIONAL_MANAGER, Role.REP)
PER_PAGE = 50
T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _paginate(session: Session, query: Select, page: int, per_page: int = PER_PAGE) -> Page:
    page = max(1, page)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, total, page, per_page)


def _like(text: str) -> str:
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(column: Any, text: str) -> Any:
    """Case-insensitive "contains", also for Cyrillic on SQLite.

    SQLite's lower() folds only ASCII, so besides ILIKE we try the usual
    spellings of the text (as typed, lower, Capitalised, UPPER).
    """
    text = text.strip()
    variants = {text, text.lower(), text.capitalize(), text.title(), text.upper()}
    return or_(*(column.ilike(_like(v), escape="\\") for v in sorted(variants)))


# --- regions and territories -----------------------------------------------------


def rename_region(session: Session, region: Region, *, name_en: str, name_ru: str, actor: User) -> Region:
    name_en, name_ru = name_en.strip(), name_ru.strip()
    if not name_en or not name_ru:
        raise Invalid(_("Give the region's name in both languages."), code="name_missing")
    before = {"name_en": region.name_en, "name_ru": region.name_ru}
    region.name_en, region.name_ru = name_en[:200], name_ru[:200]
    session.flush()
    record(
        session, actor, "region.rename", region, before=before, after={"name_en": name_en, "name_ru": name_ru}
    )
    return region


def _check_rep(rep: User | None) -> None:
    if rep is not None and rep.role_enum is not Role.REP:
        raise Invalid(_("Only a sales representative can look after a territory."), code="not_a_rep")


def save_territory(
    session: Session, territory: Territory | None, *, region: Region, name: str, rep: User | None, actor: User
) -> Territory:
    """Creates (territory=None) or updates a territory; names are unique within a region."""
    name = name.strip()[:200]
    if not name:
        raise Invalid(_("Give the territory a name."), code="name_missing", field="name")
    _check_rep(rep)
    clash = session.scalar(
        select(Territory.id).where(Territory.region_id == region.id, Territory.name == name)
    )
    if clash is not None and (territory is None or clash != territory.id):
        raise Conflict(
            _("This region already has a territory with this name."), code="territory_exists", field="name"
        )
    creating = territory is None
    if territory is None:
        territory = Territory(region_id=region.id, name=name)
        session.add(territory)
    before = (
        None
        if creating
        else {"name": territory.name, "rep_id": territory.rep_id, "region_id": territory.region_id}
    )
    territory.region_id, territory.name, territory.rep_id = region.id, name, rep.id if rep else None
    session.flush()
    record(
        session,
        actor,
        "territory.create" if creating else "territory.update",
        territory,
        before=before,
        after={"name": name, "rep_id": territory.rep_id, "region_id": region.id},
    )
    return territory


def set_invitation_valid_days(session: Session, days: int, *, actor: User) -> int:
    """The default life of new invitation cards and seller codes."""
    if not 1 <= days <= 365:
        raise Invalid(_("An invitation is valid for 1 to 365 days."), code="valid_days", field="valid_days")
    put_setting(session, VALID_DAYS_SETTING, days, actor_id=actor.id)
    record(session, actor, "setting.update", None, key=VALID_DAYS_SETTING, value=days)
    return days


def create_staff(
    session: Session,
    *,
    role: Role | str,
    login: str,
    password: str,
    full_name: str,
    region: Region | None,
    actor: User,
) -> User:
    role = Role(role)
    if role not in STAFF_ACCOUNT_ROLES:
        raise Invalid(
            _("Shop owners and sellers join with an invitation."), code="role_not_staff", field="role"
        )
    if role is Role.REGIONAL_MANAGER and region is None:
        raise Invalid(_("A regional manager needs a region."), code="region_missing", field="region_id")
    try:
        return create_user(
            session,
            role=role,
            login=login,
            password=password,
            full_name=full_name,
            region_id=region.id if region is not None and role is Role.REGIONAL_MANAGER else None,
            actor=actor,
        )
    except (Invalid, Conflict) as error:
        error.details.setdefault("field", "password" if error.code == "password_short" else "login")
        raise


# --- shops -------------------------------------------------------------------------


@dataclass
class OutletChanges:
    name: str
    legal_name: str
    tax_number: str
    address: str
    kind: str
    region_id: int
    territory_id: int | None
    lat: float | None
    lon: float | None
    active: bool


def update_outlet(session: Session, outlet: Outlet, changes: OutletChanges, *, actor: User) -> Outlet:
    if not changes.name.strip():
        raise Invalid(_("Enter the shop's name."), code="name_missing", field="name")
    if changes.kind not in OUTLET_KINDS:
        raise Invalid(_("Choose the kind of shop."), code="kind_invalid", field="kind")
    region = session.get(Region, changes.region_id)
    if region is None:
        raise Invalid(_("Choose the region."), code="region_missing", field="region_id")
    if changes.territory_id is not None:
        territory = session.get(Territory, changes.territory_id)
        if territory is None or territory.region_id != region.id:
            raise Invalid(
                _("The territory must be in the shop's region."),
                code="territory_region",
                field="territory_id",
            )
    tax_number = validate_inn(changes.tax_number) if changes.tax_number.strip() else None
    check_position(changes.lat, changes.lon, region)
    after: dict[str, Any] = {
        "name": changes.name.strip()[:200],
        "legal_name": changes.legal_name.strip()[:300] or None,
        "tax_number": tax_number,
        "address": changes.address.strip()[:500] or None,
        "kind": changes.kind,
        "region_id": region.id,
        "territory_id": changes.territory_id,
        "lat": changes.lat,
        "lon": changes.lon,
        "active": changes.active,
    }
    diff = {
        key: [getattr(outlet, key), value] for key, value in after.items() if getattr(outlet, key) != value
    }
    for key, value in after.items():
        setattr(outlet, key, value)
    session.flush()
    if diff:
        record(session, actor, "outlet.update", outlet, changes=diff)
    return outlet


def search_outlets(session: Session, viewer: User, *, q: str = "", page: int = 1) -> Page[Outlet]:
    query = select(Outlet).where(outlet_filter(viewer))
    if q.strip():
        query = query.where(
            or_(
                *(
                    _contains(column, q)
                    for column in (
                        Outlet.name,
                        Outlet.legal_name,
                        Outlet.address,
                        Outlet.tax_number,
                        Outlet.external_id,
                    )
                )
            )
        )
    return _paginate(session, query.order_by(Outlet.name, Outlet.id), page)


# --- people ---------------------------------------------------------------------------


def search_people(
    session: Session, viewer: User, *, q: str = "", role: str = "", status: str = "", page: int = 1
) -> Page[User]:
    query = select(User).where(user_filter(viewer))
    if q.strip():
        query = query.where(or_(_contains(User.login, q), _contains(User.full_name, q)))
    if role in {r.value for r in Role}:
        query = query.where(User.role == role)
    if status:
        query = query.where(User.status == status)
    return _paginate(session, query.order_by(User.full_name, User.id), page)


def reps(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.role == Role.REP.value).order_by(User.full_name)))


# --- the audit log ---------------------------------------------------------------------


def audit_entries(
    session: Session,
    *,
    action: str = "",
    actor: str = "",
    object_type: str = "",
    object_id: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
) -> Page[AuditEntry]:
    query = select(AuditEntry)
    if action.strip():
        query = query.where(_contains(AuditEntry.action, action))
    if actor.strip():
        people = select(User.id).where(or_(_contains(User.login, actor), _contains(User.full_name, actor)))
        query = query.where(AuditEntry.actor_id.in_(people))
    if object_type.strip():
        query = query.where(func.lower(AuditEntry.object_type) == object_type.strip().lower())
    if object_id.strip():
        query = query.where(AuditEntry.object_id == object_id.strip())
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    return _paginate(session, query.order_by(AuditEntry.id.desc()), page)


def audit_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
