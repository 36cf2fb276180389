"""Moving several orders at once: ship, deliver or cancel, each through its single-order service.

All or nothing: when one order cannot move (already shipped, a tracking number
missing), nothing moves and the error names that order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Order
from catalog.services import cancel_order, deliver_order, ship_order
from partner_club.accounts.models import User
from partner_club.errors import DomainError, Invalid

BULK_ACTIONS = ("ship", "deliver", "cancel")
MAX_BULK_ORDERS = 200


@dataclass(frozen=True)
class BulkMove:
    action: str
    orders: int
    points: int  # the points of the moved orders (refunded when cancelled)


def selected_orders(session: Session, order_ids: Iterable[int]) -> list[Order]:
    ids = sorted({int(i) for i in order_ids})
    if not ids:
        raise Invalid(_("Choose at least one order."), code="no_orders")
    if len(ids) > MAX_BULK_ORDERS:
        raise Invalid(_("At most %(count)d orders at once.", count=MAX_BULK_ORDERS), code="too_many_orders")
    return list(session.scalars(select(Order).where(Order.id.in_(ids)).order_by(Order.id)))


def move_orders(
    session: Session,
    order_ids: Iterable[int],
    action: str,
    *,
    actor: User,
    tracking: Mapping[int, str] | None = None,
    reason: str = "",
) -> BulkMove:
    """Ships (a tracking number each), delivers or cancels (one reason) every chosen order."""
    if action not in BULK_ACTIONS:
        raise Invalid(_("Choose ship, deliver or cancel."), code="bad_action")
    orders = selected_orders(session, order_ids)
    for order in orders:
        try:
            if action == "ship":
                ship_order(session, order.id, tracking_number=(tracking or {}).get(order.id, ""), actor=actor)
            elif action == "deliver":
                deliver_order(session, order.id, actor=actor)
            else:
                cancel_order(session, order.id, reason=reason, actor=actor)
        except DomainError as error:
            raise Invalid(
                _("Order %(id)d: %(problem)s Nothing was changed.", id=order.id, problem=error.message),
                code=error.code,
            ) from error
    return BulkMove(action, len(orders), sum(order.points for order in orders))
