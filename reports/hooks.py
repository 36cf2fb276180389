"""Reports hears of registrations through the core signals, never from codes directly.

Imported by `reports.views`, so the receiver is connected as soon as the
factory registers the reports blueprint.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from codes.models import Product, Registration, RegistrationStatus
from partner_club.companions import Companion
from partner_club.signals import RegistrationAttempt, registration_companions, registration_reviewed
from reports.rollups import companion, uncount_registration


@registration_companions.connect
def count_registration(attempt: RegistrationAttempt, **_extra) -> Companion | None:
    """The registration's rollups, written with it (and only if it is stored)."""
    if attempt.outlet_id is None or attempt.product_id is None:
        return None  # rollups are per shop and product; a person without a shop counts nowhere here
    return companion(
        outlet_id=attempt.outlet_id,
        product_id=attempt.product_id,
        product_sku=attempt.product_sku or "",
        at=attempt.at,
        volume_m3=attempt.volume_m3 or 0.0,
        points=attempt.points,
    )


@registration_reviewed.connect
def uncount_rejected(registration_id: int, *, session: Session, decision: str, **_extra) -> None:
    """A reviewer's rejection takes the registration out of the rollups again.

    codes refuses a second review by raising, which rolls this back with it.
    """
    if decision != "reject":
        return
    registration = session.get(Registration, registration_id)
    if (
        registration is None
        or registration.outlet_id is None
        or registration.status == RegistrationStatus.ACCEPTED.value
    ):
        return
    product = session.get(Product, registration.product_id)
    uncount_registration(
        session,
        outlet_id=registration.outlet_id,
        product_id=registration.product_id,
        at=registration.created_at,
        volume_m3=(product.volume_m3 if product else 0.0) or 0.0,
        points=registration.points,
    )
