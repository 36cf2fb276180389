"""Home page cards: what each person comes for, contributed by the packages that know it.

A blueprint lists its cards in `bp.home_cards` (as it lists `bp.nav`); the home
page asks each card the person's role allows for its content and shows those
that answer. The core never imports a domain package to build the page.

A card's `build(session, user)` returns the template's context (a dict) or None
when there is nothing to show; `template` renders it as `card`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partner_club.accounts.models import Role, User, UserStatus
from partner_club.database import utcnow
from partner_club.ledger import queries as ledger_queries
from partner_club.ledger.models import Account
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Territory

PARTICIPANTS = frozenset({Role.OWNER, Role.SELLER})
STAFF = frozenset({Role.ADMIN, Role.HEAD_OFFICE, Role.REGIONAL_MANAGER, Role.REP})


@dataclass(frozen=True)
class HomeCard:
    key: str
    roles: frozenset[Role]
    build: Callable[[Session, User], dict[str, Any] | None]
    template: str
    order: int = 50


@dataclass(frozen=True)
class ShownCard:
    key: str
    template: str
    card: dict[str, Any]


def cards_for(session: Session, user: User, cards: Iterable[HomeCard]) -> list[ShownCard]:
    role = Role(user.role)
    shown = []
    for card in sorted(cards, key=lambda c: (c.order, c.key)):
        if role in card.roles:
            content = card.build(session, user)
            if content is not None:
                shown.append(ShownCard(card.key, card.template, content))
    return shown


def registered_cards() -> list[HomeCard]:
    return [card for bp in current_app.blueprints.values() for card in getattr(bp, "home_cards", ())]


# --- the core's own cards ---------------------------------------------------------------------


def balance_card(session: Session, user: User) -> dict[str, Any]:
    account = session.scalar(select(Account).where(Account.user_id == user.id))
    return {"summary": ledger_queries.summary(session, account, utcnow())}


def waiting_sellers(session: Session, user: User) -> dict[str, Any] | None:
    """Sellers waiting for approval: the owner's own shop, or the shops of the rep's territories."""
    query = select(func.count(User.id)).where(
        User.role == Role.SELLER.value, User.status == UserStatus.PENDING.value, User.outlet_id.is_not(None)
    )
    if user.role == Role.OWNER.value:
        query = query.where(User.outlet_id == user.outlet_id)
    else:
        shops = select(Outlet.id).join(Territory, Outlet.territory_id == Territory.id)
        query = query.where(User.outlet_id.in_(shops.where(Territory.rep_id == user.id)))
    count = session.scalar(query) or 0
    if user.role == Role.OWNER.value and not count:
        return None
    return {"count": count, "endpoint": "accounts.sellers" if user.role == Role.OWNER.value else None}


def territory_card(session: Session, user: User) -> dict[str, Any] | None:
    """A rep's territories: how many shops and how many of them have people in the club."""
    territories = session.scalars(select(Territory).where(Territory.rep_id == user.id)).all()
    if not territories:
        return None
    ids = [t.id for t in territories]
    shops = session.scalar(select(func.count(Outlet.id)).where(Outlet.territory_id.in_(ids))) or 0
    joined = (
        session.scalar(
            select(func.count(func.distinct(User.outlet_id)))
            .join(Outlet, User.outlet_id == Outlet.id)
            .where(Outlet.territory_id.in_(ids), User.status == UserStatus.ACTIVE.value)
        )
        or 0
    )
    return {"territories": territories, "shops": shops, "joined": joined}


CORE_CARDS = (
    HomeCard("balance", PARTICIPANTS, balance_card, "partner_club/cards/balance.html", 10),
    HomeCard(
        "sellers",
        frozenset({Role.OWNER, Role.REP}),
        waiting_sellers,
        "partner_club/cards/sellers.html",
        30,
    ),
    HomeCard("territory", frozenset({Role.REP}), territory_card, "partner_club/cards/territory.html", 20),
)
