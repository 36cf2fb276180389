"""Navigation entries, carried by the blueprints that own the pages.

A blueprint lists its entries in `bp.nav`; the base template shows those the
signed-in person's role allows. The core never imports a domain package to
build its menu.

Participants get a bottom bar on phones (a few entries, icon and a short
label); staff get a side menu grouped by subject. An entry may name its icon,
short label and group itself; entries that do not are placed by their
endpoint's name in `LOOKS` (plain strings: no import of the packages).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from partner_club.accounts.models import Role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any  # a lazy_gettext string
    roles: frozenset[Role]
    order: int = 50
    icon: str = ""  # a symbol of static/icons/sprite.svg, without its "i-" prefix
    short: Any = None  # the bottom bar's label (one short word)
    group: str = ""  # a key of GROUPS


@dataclass(frozen=True)
class NavGroup:
    key: str
    label: Any
    items: tuple[NavItem, ...]


GROUPS = {
    "start": (_l("Start"), 0),
    "overview": (_l("Overview"), 10),
    "codes": (_l("Codes"), 20),
    "people": (_l("People and shops"), 30),
    "prizes": (_l("Prizes"), 40),
    "points": (_l("Points"), 50),
    "fraud": (_l("Checks"), 60),
    "other": (_l("More"), 90),
}

# endpoint -> (icon, group, short label): the look of entries that do not carry their own.
LOOKS: dict[str, tuple[str, str, Any]] = {
    "site.home": ("house", "start", _l("Home")),
    "codes.register": ("plus", "codes", _l("Enter a code")),
    "scanner.scanner": ("scan-line", "codes", _l("Scan")),
    "codes.registrations": ("list", "codes", _l("Codes")),
    "codes.products": ("package", "codes", None),
    "codes.batches": ("qr-code", "codes", None),
    "scanner.bulk": ("camera", "codes", None),
    "ledger.balance": ("coins", "points", _l("Points")),
    "ledger.shop": ("store", "points", None),
    "ledger.territory": ("coins", "points", None),
    "ledger.liability": ("landmark", "points", None),
    "ledger.accounts": ("coins", "points", None),
    "ledger.settings": ("settings", "points", None),
    "catalog.index": ("gift", "prizes", _l("Prizes")),
    "catalog.my_orders": ("shopping-cart", "prizes", None),
    "catalog.admin_prizes": ("gift", "prizes", None),
    "catalog.admin_orders": ("shopping-cart", "prizes", None),
    "catalog.tax_register": ("receipt", "prizes", None),
    "fraud.queue": ("shield-alert", "fraud", None),
    "fraud.settings": ("settings", "fraud", None),
    "reports.map_country": ("map", "overview", None),
    "reports.analytics_page": ("chart-column", "overview", None),
    "reports.targets_page": ("target", "overview", None),
    "reports.subscriptions_page": ("mail", "overview", None),
    "accounts.invitations": ("mail", "people", None),
    "accounts.sellers": ("users", "people", None),
    "admin.people": ("users", "people", None),
    "admin.shops": ("store", "people", None),
    "admin.territories": ("map", "people", None),
    "admin.audit": ("history", "people", None),
    "mailings.index": ("mail", "people", None),
    "support.queue": ("mail", "people", None),
    "support.mine": ("mail", "other", None),
}

# The bottom bar of participants, in this order; the rest is under "More".
BOTTOM_BAR = ("site.home", "codes.register", "ledger.balance", "catalog.index")
HOME = NavItem("site.home", _l("Home"), frozenset(Role), 0)


def _dressed(item: NavItem) -> NavItem:
    icon, group, short = LOOKS.get(item.endpoint, ("chevron-right", "other", None))
    return NavItem(
        item.endpoint,
        item.label,
        item.roles,
        item.order,
        item.icon or icon,
        item.short or short or item.label,
        item.group or group,
    )


def nav_for(user: Any) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return []
    items: Iterable[NavItem] = (
        item for bp in current_app.blueprints.values() for item in getattr(bp, "nav", ())
    )
    role = Role(user.role)
    return sorted((_dressed(i) for i in items if role in i.roles), key=lambda i: (i.order, i.endpoint))


def nav_groups(user: Any) -> list[NavGroup]:
    """The side menu: the person's entries by subject, groups in a fixed order."""
    entries = [_dressed(HOME), *nav_for(user)]
    keys = sorted({i.group for i in entries}, key=lambda k: GROUPS.get(k, GROUPS["other"])[1])
    return [
        NavGroup(k, GROUPS.get(k, GROUPS["other"])[0], tuple(i for i in entries if i.group == k))
        for k in keys
    ]


def bottom_bar(user: Any) -> list[NavItem]:
    """A participant's phone bar: home, register, points, prizes (those the role has)."""
    if not getattr(user, "is_participant", False):
        return []
    entries = {i.endpoint: i for i in [_dressed(HOME), *nav_for(user)]}
    return [entries[e] for e in BOTTOM_BAR if e in entries]
