"""Ordering prizes: what a person sees, placing an order, its status flow.

An order takes its stock and its points in ONE transaction: the prize rows
are locked in id order (so two orders for the same prizes cannot deadlock),
each stock is lowered by `UPDATE ... SET stock = stock - q WHERE stock >= q`
(the CHECK stock >= 0 is the last guard) and the points are spent through
the ledger, which locks the account row. Anything short raises a
DomainError and the caller rolls the whole transaction back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import phonenumbers
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import CursorResult, Select, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog import kinds
from catalog.models import (
    DeliveryAddress,
    Order,
    OrderLine,
    OrderStatus,
    Prize,
    PrizeRegion,
    PrizeRole,
    ProviderStatus,
)
from catalog.providers import PROVIDERS
from catalog.tax import needs_tax_profile
from partner_club.accounts.models import User
from partner_club.audit.services import record
from partner_club.database import utcnow
from partner_club.errors import Conflict, Forbidden, Invalid, NotFound
from partner_club.ledger.credits import CreditKind, credit
from partner_club.ledger.services import account_for_user, spend
from partner_club.signals import HOLD, REJECT, assess_order

MAX_QUANTITY = 20
MAX_LINES = 30
CAUSE = "order"


class OutOfStock(Conflict):
    code = "out_of_stock"


class TaxProfileRequired(Conflict):
    code = "tax_profile_required"


class AlreadyPlaced(Conflict):
    code = "already_placed"


# --- what a person may see --------------------------------------------------


def person_region_id(user: User) -> int | None:
    if user.outlet is not None:
        return user.outlet.region_id
    if user.territory is not None:
        return user.territory.region_id
    return None


def visible_prizes(user: User) -> Select:
    """Active prizes this person may see: their region and role, or no limit set."""
    statement = select(Prize).where(Prize.active.is_(True))
    if not user.is_participant:
        return statement  # staff look at the whole catalog
    region_id = person_region_id(user)
    limited_to_regions = exists().where(PrizeRegion.prize_id == Prize.id)
    in_region = exists().where(PrizeRegion.prize_id == Prize.id, PrizeRegion.region_id == region_id)
    limited_to_roles = exists().where(PrizeRole.prize_id == Prize.id)
    has_role = exists().where(PrizeRole.prize_id == Prize.id, PrizeRole.role == user.role)
    return statement.where(or_(~limited_to_regions, in_region), or_(~limited_to_roles, has_role))


def can_see_prize(user: User, prize: Prize) -> bool:
    if not prize.active:
        return False
    if not user.is_participant:
        return True
    regions = prize.region_ids
    roles = prize.roles
    return (not regions or person_region_id(user) in regions) and (not roles or user.role in roles)


def search_catalog(
    session: Session,
    user: User,
    *,
    query: str = "",
    category_id: int | None = None,
    max_points: int | None = None,
) -> list[Prize]:
    statement = visible_prizes(user)
    if category_id:
        statement = statement.where(Prize.category_id == category_id)
    if max_points is not None:
        statement = statement.where(Prize.points <= max_points)
    for word in query.casefold().split()[:5]:
        statement = statement.where(Prize.search_text.contains(word, autoescape=True))
    return list(session.scalars(statement.order_by(Prize.points, Prize.id)))


# --- input ----------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    prize_id: int
    quantity: int


def parse_items(raw: Any) -> list[Item]:
    """[{prize, quantity}] from a person or a client, merged by prize; Invalid if malformed."""
    if not isinstance(raw, list) or not raw:
        raise Invalid(_("The order is empty: choose at least one prize."), code="empty_order")
    merged: dict[int, int] = {}
    for item in raw:
        prize = item.get("prize") if isinstance(item, dict) else None
        quantity = item.get("quantity", 1) if isinstance(item, dict) else None
        if (
            isinstance(prize, bool)
            or not isinstance(prize, int)
            or isinstance(quantity, bool)
            or not isinstance(quantity, int)
        ):
            raise Invalid(_("Each item needs a prize id and a whole quantity."), code="bad_item")
        if quantity < 1:
            raise Invalid(_("The quantity must be at least 1."), code="bad_quantity")
        merged[prize] = merged.get(prize, 0) + quantity
    if len(merged) > MAX_LINES:
        raise Invalid(_("Too many different prizes in one order."), code="too_many_lines")
    for quantity in merged.values():
        if quantity > MAX_QUANTITY:
            raise Invalid(
                _("At most %(count)d of one prize per order.", count=MAX_QUANTITY), code="bad_quantity"
            )
    return [Item(prize_id, quantity) for prize_id, quantity in sorted(merged.items())]


def clean_delivery(address: Any, phone: Any) -> tuple[str, str]:
    """A usable address and a phone in +digits form; Invalid naming the field otherwise."""
    address = " ".join(str(address or "").split())
    if len(address) < 10 or not re.search(r"\d", address) or len(address) > 500:
        raise Invalid(
            _("Enter the full delivery address: town, street, house number and flat."),
            code="bad_address",
            field="address",
        )
    return address, parse_delivery_phone(phone)


def parse_delivery_phone(phone: Any, default_region: str = "RU") -> str:
    """A phone in E.164 form, read as sign-up reads one: "9161112233" is +79161112233."""
    text = str(phone or "").strip()
    try:
        number = phonenumbers.parse(text, default_region) if text else None
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise Invalid(
            _("Enter a phone number with its area code, for example +7 912 345-67-89."),
            code="bad_phone",
            field="phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def saved_address(session: Session, user: User) -> DeliveryAddress | None:
    return session.scalar(select(DeliveryAddress).where(DeliveryAddress.user_id == user.id))


def _remember_address(session: Session, user: User, address: str, phone: str) -> None:
    saved = saved_address(session, user)
    if saved is None:
        session.add(DeliveryAddress(user_id=user.id, address=address, phone=phone))
    elif (saved.address, saved.phone) != (address, phone):
        saved.address, saved.phone = address, phone


# --- placing an order -----------------------------------------------------


@dataclass(frozen=True)
class Placed:
    order: Order
    replay: bool  # True when the idempotency key named an order placed before


def find_by_key(session: Session, user: User, key: str) -> Order | None:
    return session.scalar(select(Order).where(Order.user_id == user.id, Order.idempotency_key == key))


def place_order(
    session: Session,
    user: User,
    items: Iterable[Item],
    *,
    address: Any,
    phone: Any,
    idempotency_key: str | None = None,
    at: datetime | None = None,
) -> Placed:
    """Reserves stock and points and records the order, all or nothing."""
    if not user.is_participant:
        raise Forbidden(_("Only participants can order prizes."), code="not_a_participant")
    items = list(items)
    if not items:
        raise Invalid(_("The order is empty: choose at least one prize."), code="empty_order")
    key = (idempotency_key or "").strip()[:100] or None
    if key and (earlier := find_by_key(session, user, key)) is not None:
        return Placed(earlier, True)
    address, phone = clean_delivery(address, phone)
    assessment = assess_order(session, user.id, address=address, phone=phone)
    if assessment.decision == REJECT:
        raise Invalid(_("This order cannot be placed. Contact the club's support."), code="order_refused")
    wanted: dict[int, int] = {}
    for item in items:
        wanted[item.prize_id] = wanted.get(item.prize_id, 0) + item.quantity
    if any(not 1 <= quantity <= MAX_QUANTITY for quantity in wanted.values()):
        raise Invalid(_("At most %(count)d of one prize per order.", count=MAX_QUANTITY), code="bad_quantity")
    prizes = _lock_prizes(session, sorted(wanted))
    for prize_id in sorted(wanted):
        prize = prizes.get(prize_id)
        if prize is None or not can_see_prize(user, prize):
            raise Invalid(
                _("This prize is not available to you (it may be limited to other regions)."),
                code="prize_not_available",
                prize=prize_id,
            )
    points = sum(prizes[p].points * q for p, q in wanted.items())
    value = sum(prizes[p].value_kopecks * q for p, q in wanted.items())
    order = Order(
        user_id=user.id,
        points=points,
        value_kopecks=value,
        address=address,
        phone=phone,
        idempotency_key=key,
        placed_at=at or utcnow(),
        status=OrderStatus.PLACED.value,
        review_note=(
            "; ".join(r.message for r in assessment.reasons)[:1000] if assessment.decision == HOLD else None
        ),
    )
    for prize_id, quantity in sorted(wanted.items()):
        prize = prizes[prize_id]
        automatic = PROVIDERS.get(prize.provider) is not None and PROVIDERS[prize.provider].automatic
        order.lines.append(
            OrderLine(
                prize_id=prize.id,
                quantity=quantity,
                points_each=prize.points,
                value_kopecks_each=prize.value_kopecks,
                provider=prize.provider,
                provider_sku=prize.provider_sku,
                provider_status=(ProviderStatus.PENDING if automatic else ProviderStatus.MANUAL).value,
            )
        )
    session.add(order)
    try:
        session.flush()
    except IntegrityError:
        # The unique (user, key) caught a simultaneous click: the caller rolls
        # back and shows the order the other click placed.
        raise AlreadyPlaced(_("This order was already placed."), key=key) from None
    for prize_id, quantity in sorted(wanted.items()):
        _take_stock(session, prizes[prize_id], quantity)
    spend(session, account_for_user(session, user), points, cause_type=CAUSE, cause_id=order.id, actor=user)
    # Asked after `spend`, which holds the person's account lock: two orders of
    # one person cannot both slip under the allowance. The sum includes this order.
    if needs_tax_profile(session, user, 0, at):
        raise TaxProfileRequired(
            _(
                "This order takes your prizes of the year above the tax-free allowance: "
                "give your INN and consent once, and the organizer pays the tax."
            )
        )
    _remember_address(session, user, address, phone)
    record(
        session,
        user,
        "catalog.order_placed",
        order,
        points=points,
        lines=[{"prize": line.prize_id, "quantity": line.quantity} for line in order.lines],
    )
    session.flush()
    return Placed(order, False)


def _lock_prizes(session: Session, prize_ids: list[int]) -> dict[int, Prize]:
    statement = (
        select(Prize)
        .where(Prize.id.in_(prize_ids))
        .order_by(Prize.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {prize.id: prize for prize in session.scalars(statement)}


def _take_stock(session: Session, prize: Prize, quantity: int) -> None:
    # An UPDATE's result is a CursorResult (it has the rowcount); Session.execute is typed Result.
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Prize)
            .where(Prize.id == prize.id, Prize.stock >= quantity)
            .values(stock=Prize.stock - quantity)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        available = session.scalar(select(Prize.stock).where(Prize.id == prize.id)) or 0
        name = prize.name(str(get_locale() or "ru"))
        message = (
            _("Only %(count)d of “%(name)s” left.", count=available, name=name)
            if available
            else _("“%(name)s” is out of stock.", name=name)
        )
        raise OutOfStock(message, prize=prize.id, available=available)
    session.refresh(prize, ["stock"])


# --- reading orders -------------------------------------------------------


def own_order(session: Session, user: User, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None or order.user_id != user.id:
        raise NotFound(_("There is no such order."), code="order_not_found")
    return order


def orders_of(session: Session, user: User) -> list[Order]:
    return list(session.scalars(select(Order).where(Order.user_id == user.id).order_by(Order.id.desc())))


# --- the status flow (staff) ----------------------------------------------

NEXT = {
    "confirm": ({OrderStatus.PLACED}, OrderStatus.CONFIRMED),
    "ship": ({OrderStatus.PLACED, OrderStatus.CONFIRMED}, OrderStatus.SHIPPED),
    "deliver": ({OrderStatus.CONFIRMED, OrderStatus.SHIPPED}, OrderStatus.DELIVERED),
    "cancel": ({OrderStatus.PLACED, OrderStatus.CONFIRMED}, OrderStatus.CANCELLED),
}


def lock_order(session: Session, order_id: int) -> Order:
    order = session.scalars(
        select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    ).one_or_none()
    if order is None:
        raise NotFound(_("There is no such order."), code="order_not_found")
    return order


def _move(session: Session, order: Order, action: str, actor: User | None, **details: Any) -> None:
    allowed, target = NEXT[action]
    if OrderStatus(order.status) not in allowed:
        raise Conflict(
            _("This order is %(status)s and cannot be changed that way.", status=order.status_label),
            code="bad_transition",
        )
    before = order.status
    order.status = target.value
    setattr(order, f"{target.value}_at", utcnow())
    record(session, actor, f"catalog.order_{target.value}", order, before=before, **details)


def confirm_order(session: Session, order_id: int, *, actor: User) -> Order:
    order = lock_order(session, order_id)
    _move(session, order, "confirm", actor)
    session.flush()
    _notify(session, order)
    return order


def ship_order(session: Session, order_id: int, *, tracking_number: str, actor: User) -> Order:
    tracking_number = " ".join((tracking_number or "").split())
    if not 4 <= len(tracking_number) <= 64:
        raise Invalid(_("Enter the tracking number (4 to 64 characters)."), code="bad_tracking")
    order = lock_order(session, order_id)
    order.tracking_number = tracking_number
    _move(session, order, "ship", actor, tracking_number=tracking_number)
    session.flush()
    _notify(session, order)
    return order


def deliver_order(session: Session, order_id: int, *, actor: User | None) -> Order:
    order = lock_order(session, order_id)
    _move(session, order, "deliver", actor)
    session.flush()
    _notify(session, order)
    return order


def cancel_order(session: Session, order_id: int, *, reason: str, actor: User | None) -> Order:
    """Cancels an open order: its points go back through the ledger and its stock back on the shelf.

    Lines already delivered by a provider (gift cards sent) are neither refunded nor restocked.
    """
    reason = " ".join((reason or "").split())[:500]
    if not reason:
        raise Invalid(
            _("Give the reason for the cancellation: the participant will read it."), code="reason_required"
        )
    order = lock_order(session, order_id)
    order.cancel_reason = reason  # before the status: the CHECK wants both at once
    _move(session, order, "cancel", actor, reason=reason)
    returned = [line for line in order.lines if line.provider_status != ProviderStatus.DONE.value]
    for line in sorted(returned, key=lambda line: line.prize_id):
        session.execute(
            update(Prize)
            .where(Prize.id == line.prize_id)
            .values(stock=Prize.stock + line.quantity)
            .execution_options(synchronize_session=False)
        )
        if line.provider_status in (ProviderStatus.PENDING.value, ProviderStatus.RETRY.value):
            line.provider_status = ProviderStatus.FAILED.value
    points = sum(line.points for line in returned)
    if points:
        credit(
            session,
            order.user,
            points,
            cause_type=CAUSE,
            cause_id=order.id,
            kind=CreditKind.REFUND,
            breakdown=[{"source": "refund", "points": points}],
            actor=actor,
        )
    order.refunded = True
    session.flush()
    _notify(session, order)
    return order


def _notify(session: Session, order: Order) -> None:
    kinds.order_changed(session, order)


def order_queue(session: Session, *, status: str | None = None, limit: int = 200) -> list[Order]:
    statement = select(Order).order_by(Order.placed_at, Order.id).limit(limit)
    if status:
        statement = statement.where(Order.status == status)
    return list(session.scalars(statement))
