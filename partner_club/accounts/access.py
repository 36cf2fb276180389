"""Who may see what: the one place that turns a role into a scope.

Every query for outlets (and anything hanging on an outlet) goes through
`outlet_filter`, so a seller never sees another shop's data and a rep never
sees another territory's.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import ColumnElement, false, select, true

from partner_club.accounts.models import Role, User
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Territory

EVERYTHING = frozenset({Role.ADMIN, Role.HEAD_OFFICE})
STAFF = frozenset({Role.ADMIN, Role.HEAD_OFFICE, Role.REGIONAL_MANAGER, Role.REP})
PARTICIPANTS = frozenset({Role.OWNER, Role.SELLER})
ALL_ROLES = frozenset(Role)


def rep_territory_ids(user: User):
    return select(Territory.id).where(Territory.rep_id == user.id).scalar_subquery()


def outlet_filter(user: User) -> ColumnElement[bool]:
    """A WHERE clause on `Outlet` that keeps what `user` may see."""
    role = Role(user.role)
    if role in EVERYTHING:
        return true()
    if role is Role.REGIONAL_MANAGER:
        return Outlet.region_id == user.region_id if user.region_id else false()
    if role is Role.REP:
        return Outlet.territory_id.in_(rep_territory_ids(user))
    if user.outlet_id is not None:
        return Outlet.id == user.outlet_id
    return false()


def user_filter(user: User) -> ColumnElement[bool]:
    """A WHERE clause on `User` (people) that keeps what `user` may see."""
    role = Role(user.role)
    if role in EVERYTHING:
        return true()
    if role is Role.REGIONAL_MANAGER:
        outlets = select(Outlet.id).where(Outlet.region_id == user.region_id).scalar_subquery()
        territories = select(Territory.id).where(Territory.region_id == user.region_id).scalar_subquery()
        return User.outlet_id.in_(outlets) | User.territory_id.in_(territories)
    if role is Role.REP:
        territories = rep_territory_ids(user)
        outlets = select(Outlet.id).where(Outlet.territory_id.in_(territories)).scalar_subquery()
        return User.outlet_id.in_(outlets) | User.territory_id.in_(territories)
    if role is Role.OWNER:
        return User.outlet_id == user.outlet_id
    return User.id == user.id


def can_see_outlet(user: User, outlet: Outlet) -> bool:
    role = Role(user.role)
    if role in EVERYTHING:
        return True
    if role is Role.REGIONAL_MANAGER:
        return outlet.region_id == user.region_id
    if role is Role.REP:
        return outlet.territory is not None and outlet.territory.rep_id == user.id
    return outlet.id == user.outlet_id


def can_see_user(viewer: User, person: User) -> bool:
    if viewer.id == person.id or Role(viewer.role) in EVERYTHING:
        return True
    if person.outlet is not None:
        if Role(viewer.role) is Role.SELLER:
            return False
        return can_see_outlet(viewer, person.outlet)
    territory = person.territory
    if territory is None:
        return False
    if Role(viewer.role) is Role.REGIONAL_MANAGER:
        return territory.region_id == viewer.region_id
    return Role(viewer.role) is Role.REP and territory.rep_id == viewer.id


def roles_required(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """View decorator: signed in, and one of `roles`; 403 otherwise."""
    allowed = frozenset(roles)

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if Role(current_user.role) not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
