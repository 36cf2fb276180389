"""Sending order lines to automatic providers (gift cards) after the order commits.

The HTTP call never happens inside the ordering transaction: the order
commits with its points spent and its lines `pending`, then a job calls the
provider. What can happen to the points:
- the provider delivers -> codes stored, order delivered, codes e-mailed;
- the provider refuses -> order cancelled, points refunded;
- no clear answer (timeout, 5xx) -> points stay reserved, line `retry`; the
  next attempt (job, `flask catalog retry`, or the staff's button) sends the
  same reference, so a late success is found rather than bought twice;
  after MAX_ATTEMPTS the order is cancelled and refunded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import kinds
from catalog.models import GiftCardDelivery, Order, OrderLine, OrderStatus, ProviderStatus
from catalog.providers import ProviderRefused, ProviderUnavailable, get_provider
from catalog.services import cancel_order, lock_order
from partner_club.audit.services import record
from partner_club.database import utcnow

MAX_ATTEMPTS = 5
WAITING = (ProviderStatus.PENDING.value, ProviderStatus.RETRY.value, ProviderStatus.PLACED.value)


def submit_to_providers(session: Session, order_id: int, config: Mapping[str, Any]) -> str:
    """One attempt for the order's automatic lines; returns the order's status afterwards."""
    order = lock_order(session, order_id)  # staff cannot cancel while the provider is asked
    if not order.is_open:
        return order.status
    for line in order.lines:
        if line.provider_status not in WAITING:
            continue
        provider = get_provider(line.provider, config)
        try:
            if line.provider_status == ProviderStatus.PLACED.value and line.provider_order_id:
                answer = provider.order_status(line.provider_order_id)
            else:
                answer = provider.place_order(line.reference, line.provider_sku, line.quantity)
        except ProviderRefused as error:
            line.provider_status = ProviderStatus.FAILED.value
            line.provider_error = error.message
            _give_up(session, order, "refused")
            return order.status
        except ProviderUnavailable as error:
            line.provider_attempts += 1
            line.provider_error = error.message
            line.provider_status = ProviderStatus.RETRY.value
            if line.provider_attempts >= MAX_ATTEMPTS:
                _give_up(session, order, "unavailable")
                return order.status
            continue
        line.provider_attempts += 1
        line.provider_error = None
        line.provider_order_id = answer.external_id
        if answer.status == "done":
            for card in answer.cards:
                session.add(GiftCardDelivery(line_id=line.id, code=card.code, link=card.link))
            line.provider_status = ProviderStatus.DONE.value
            session.flush()
            _send_cards(session, order, line)
        else:
            line.provider_status = ProviderStatus.PLACED.value
    if all(line.provider_status == ProviderStatus.DONE.value for line in order.lines):
        now = utcnow()
        order.confirmed_at = order.confirmed_at or now
        order.delivered_at = now
        before, order.status = order.status, OrderStatus.DELIVERED.value
        record(session, None, "catalog.order_delivered", order, before=before, by="provider")
    session.flush()
    return order.status


def _give_up(session: Session, order: Order, why: str) -> None:
    with force_locale(order.user.locale or "ru"):
        reason = (
            _("The gift-card service refused the order.")
            if why == "refused"
            else _("The gift-card service did not answer after several attempts.")
        )
    session.flush()
    cancel_order(session, order.id, reason=reason, actor=None)


def _send_cards(session: Session, order: Order, line: OrderLine) -> None:
    codes = [card.code or card.link or "" for card in line.gift_cards]
    kinds.gift_card_issued(session, order, line.prize.name(order.user.locale), codes)


def orders_waiting_for_providers(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(Order.id)
            .join(OrderLine)
            .where(
                Order.status.in_((OrderStatus.PLACED.value, OrderStatus.CONFIRMED.value)),
                OrderLine.provider_status.in_(WAITING),
            )
            .distinct()
            .order_by(Order.id)
        )
    )
