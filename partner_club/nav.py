"""Navigation entries, carried by the blueprints that own the pages.

A blueprint lists its entries in `bp.nav`; the base template shows those the
signed-in person's role allows. The core never imports a domain package to
build its menu.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app

from partner_club.accounts.models import Role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any  # a lazy_gettext string
    roles: frozenset[Role]
    order: int = 50


def nav_for(user: Any) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return []
    items: Iterable[NavItem] = (
        item for bp in current_app.blueprints.values() for item in getattr(bp, "nav", ())
    )
    role = Role(user.role)
    return sorted((i for i in items if role in i.roles), key=lambda i: (i.order, i.endpoint))
