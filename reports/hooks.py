"""Reports hears of registrations through the core signals, never from codes directly.

Imported by `reports.views`, so the receivers are connected as soon as the
factory registers the reports blueprint.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from codes.models import Product, Registration, RegistrationStatus
from partner_club.signals import (
    RegistrationAttempt,
    registration_recorded,
    registration_reviewed,
    registrations_imported,
)
from reports.jobs import schedule_fold
from reports.rollups import is_folded, uncount_registration

_FOLD_DUE = "reports.fold_due"


@registration_recorded.connect
def fold_after_commit(attempt: RegistrationAttempt, **_kwargs: Any) -> None:
    """The registration is folded into the rollups by a job once its transaction commits."""
    attempt.session.info[_FOLD_DUE] = True


@registrations_imported.connect
def fold_imported_after_commit(session: Session, **_kwargs: Any) -> None:
    session.info[_FOLD_DUE] = True


@event.listens_for(Session, "after_commit")
def _schedule_fold(session: Session) -> None:
    if session.info.pop(_FOLD_DUE, None):
        schedule_fold(current_app._get_current_object())  # type: ignore[attr-defined]


@event.listens_for(Session, "after_soft_rollback")
def _nothing_to_fold(session: Session, _previous: Any) -> None:
    if not session.in_transaction():
        session.info.pop(_FOLD_DUE, None)


@registration_reviewed.connect
def uncount_rejected(registration_id: int, *, session: Session, decision: str, **_extra: Any) -> None:
    """A reviewer's rejection takes a folded registration out of the rollups again (one not
    folded yet is skipped by the fold, which counts no rejected registration).

    codes refuses a second review by raising, which rolls this back with it.
    """
    if decision != "reject" or not is_folded(session, registration_id):
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
