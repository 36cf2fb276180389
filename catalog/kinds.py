"""The messages a prize order raises: confirmed, shipped, delivered, cancelled; a gift card issued."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from catalog.models import Order
from partner_club.notifications.services import Kind, notify, register_kind

for _name, _title, _body in (
    ("order.confirmed", _l("Order %(id)d is confirmed"), _l("We are preparing your prizes.")),
    ("order.shipped", _l("Order %(id)d is on its way"), _l("Tracking number: %(tracking)s.")),
    ("order.delivered", _l("Order %(id)d is delivered"), _l("Enjoy your prizes!")),
    (
        "order.cancelled",
        _l("Order %(id)d is cancelled"),
        _l("%(reason)s Its points are back on your balance."),
    ),
):
    register_kind(Kind(name=_name, group="orders", title=_title, body=_body))
register_kind(
    Kind(
        name="giftcard.issued",
        group="orders",
        title=_l("Your gift card “%(prize)s” is ready"),
        body=_l("Code: %(codes)s"),
        urgent=True,  # people wait for it at the counter
    )
)


def order_link(order: Order) -> str:
    return f"/prizes/orders/{order.id}"


def order_changed(session: Session, order: Order) -> None:
    """Tells the person their order's new status (its status names the kind)."""
    params = {"id": order.id, "tracking": order.tracking_number or "", "reason": order.cancel_reason or ""}
    notify(session, order.user_id, f"order.{order.status}", params, link=order_link(order))


def gift_card_issued(session: Session, order: Order, prize: str, codes: list[str]) -> None:
    notify(
        session,
        order.user_id,
        "giftcard.issued",
        {"prize": prize, "codes": ", ".join(codes)},
        link=order_link(order),
    )
