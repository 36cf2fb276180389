"""Fraud's answers to the registration signals (imported by fraud.views, so the factory connects them)."""

from __future__ import annotations

from typing import Any

from fraud import services
from fraud.delivery import check_delivery
from partner_club.signals import (
    Assessment,
    RegistrationAttempt,
    order_checks,
    registration_checks,
    registration_recorded,
)


@registration_checks.connect
def check_registration(attempt: RegistrationAttempt, **_kwargs: Any) -> Assessment | None:
    return services.assess_attempt(attempt.session, attempt)


@registration_recorded.connect
def remember_registration(
    attempt: RegistrationAttempt, *, registration_id: int, assessment: Assessment | None, **_kwargs: Any
) -> None:
    services.record_registration(attempt.session, registration_id, assessment)


@order_checks.connect
def check_order(user_id: int, *, session, address: str, phone: str, **_kwargs) -> Assessment:
    return check_delivery(session, user_id, address=address, phone=phone)
