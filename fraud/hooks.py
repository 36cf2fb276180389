"""Fraud's answers to the registration signals (imported by fraud.views, so the factory connects them)."""

from __future__ import annotations

from fraud import services
from fraud.delivery import check_delivery
from partner_club.companions import Companion
from partner_club.signals import (
    Assessment,
    RegistrationAttempt,
    order_checks,
    registration_checks,
    registration_companions,
    registration_recorded,
)


@registration_checks.connect
def check_registration(attempt: RegistrationAttempt, **_kwargs) -> Assessment | None:
    return services.assess_attempt(attempt.session, attempt)


@registration_companions.connect
def observe_registration(attempt: RegistrationAttempt, **_kwargs) -> Companion | None:
    return services.observation_companion(attempt.session, attempt)


@registration_recorded.connect
def remember_registration(attempt: RegistrationAttempt, **_kwargs) -> None:
    services.record_registration(attempt.session, attempt)


@order_checks.connect
def check_order(user_id: int, *, session, address: str, phone: str, **_kwargs) -> Assessment:
    return check_delivery(session, user_id, address=address, phone=phone)
