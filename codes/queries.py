"""Read-only queries for the codes pages, scoped by who is looking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from codes.models import Batch, Product, Registration
from codes.scheme import display
from codes.services import RegistrationResult, batch_code
from partner_club.accounts.access import outlet_filter, user_filter
from partner_club.accounts.models import Role, User
from partner_club.ledger.queries import CAUSE_DETAILS
from partner_club.ledger.services import balance_of
from partner_club.outlets.models import Outlet


def visible_registrations(viewer: User) -> Select:
    """Registrations `viewer` may see: own (seller), the shop's (owner), the territory's (rep)..."""
    query = select(Registration).options(
        joinedload(Registration.product),
        joinedload(Registration.participant),
        joinedload(Registration.outlet),
    )
    if Role(viewer.role) is Role.SELLER:
        return query.where(Registration.participant_id == viewer.id)
    people = select(User.id).where(user_filter(viewer)).scalar_subquery()
    outlets = select(Outlet.id).where(outlet_filter(viewer)).scalar_subquery()
    return query.where(or_(Registration.participant_id.in_(people), Registration.outlet_id.in_(outlets)))


def registrations_page(
    session: Session, viewer: User, page: int, per_page: int = 50, participant_only: bool = False
) -> tuple[list[Registration], int]:
    query = visible_registrations(viewer)
    if participant_only:
        query = query.where(Registration.participant_id == viewer.id)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = (
        session.scalars(
            query.order_by(Registration.created_at.desc(), Registration.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        .unique()
        .all()
    )
    return list(rows), int(total or 0)


def registration_totals(session: Session, viewer: User, participant_only: bool = False) -> tuple[int, int]:
    query = visible_registrations(viewer)
    if participant_only:
        query = query.where(Registration.participant_id == viewer.id)
    sub = query.order_by(None).subquery()
    count, points = session.execute(select(func.count(), func.coalesce(func.sum(sub.c.points), 0))).one()
    return int(count), int(points)


def batches(session: Session, status: str | None = None) -> list[Batch]:
    query = (
        select(Batch)
        .options(joinedload(Batch.product), joinedload(Batch.region))
        .order_by(Batch.number.desc())
    )
    if status:
        query = query.where(Batch.status == status)
    return list(session.scalars(query.limit(500)).unique())


def products(session: Session) -> list[Product]:
    return list(session.scalars(select(Product).order_by(Product.sku)))


def registered_count(session: Session, batch: Batch) -> int:
    return int(
        session.scalar(select(func.count(Registration.id)).where(Registration.batch_id == batch.id)) or 0
    )


def registered_between(session: Session, batch: Batch, first: int, last: int) -> int:
    """Codes of `batch` with serials first..last that someone has registered already."""
    return int(
        session.scalar(
            select(func.count(Registration.id)).where(
                Registration.batch_id == batch.id, Registration.serial.between(first, last)
            )
        )
        or 0
    )


def describe_registrations(session: Session, cause_ids: list[str]) -> dict[str, str]:
    """The product behind each registration, for the points history (the ledger asks)."""
    ids = [int(i) for i in cause_ids if i.isdigit()]
    rows = session.execute(
        select(Registration.id, Product.name)
        .join(Product, Product.id == Registration.product_id)
        .where(Registration.id.in_(ids))
    ).all()
    return {str(registration_id): name for registration_id, name in rows}


@dataclass(frozen=True)
class Answer:
    """What a person is told after registering: which code, what it earned, the balance now."""

    code: str  # as printed: XXXX-XXXX-XXXXX
    product: str
    points: int
    status: str
    created: bool  # False: the same person had registered this code already
    registered_at: datetime
    active: int
    pending: int
    breakdown: list[dict[str, Any]]  # where the points came from, for a new registration


def registration_answer(session: Session, participant: User, result: RegistrationResult) -> Answer:
    registration = session.get(Registration, result.registration_id)
    balance = balance_of(session, participant)
    return Answer(
        code=display(batch_code(registration.batch, registration.serial)),
        product=result.product["name"],
        points=result.points,
        status=result.status,
        created=result.created,
        registered_at=registration.created_at,
        active=balance.active,
        pending=balance.pending,
        breakdown=[dict(line) for line in result.breakdown or []],
    )


def printed_codes(session: Session, rows: list[Registration]) -> dict[int, str]:
    """Each registration's code as printed (computed from batch and serial; batches read once)."""
    ids = {r.batch_id for r in rows}
    found = {b.id: b for b in session.scalars(select(Batch).where(Batch.id.in_(ids)))} if ids else {}
    return {r.id: display(batch_code(found[r.batch_id], r.serial)) for r in rows}


CAUSE_DETAILS["registration"] = describe_registrations
