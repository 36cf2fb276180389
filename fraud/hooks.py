"""Fraud's answers to the registration signals (imported by fraud.views, so the factory connects them)."""
from __future__ import annotations

from typing import Optional

from partner_club.companions import Companion
from partner_club.signals import (Assessment, RegistrationAttempt, order_checks, registration_checks,
                                  registration_companions, registration_recorded)

from fraud import services
from fraud.delivery import check_delivery


@registration_checks.connect
def check_registration(attempt: RegistrationAttempt, **_kwargs) -> Optional[Assessment]:
    return services.assess_attempt(attempt.session, attempt)


@registration_companions.connect
def observe_registration(attempt: RegistrationAttempt, **_kwargs) -> Optional[Companion]:
    return services.observation_companion(attempt.session, attempt)


@registration_recorded.connect
def remember_registration(attempt: RegistrationAttempt, **_kwargs) -> None:
    services.record_registration(attempt.session, attempt)


@order_checks.connect
def check_order(user_id: int, *, session, address: str, phone: str, **_kwargs) -> Assessment:
    return check_delivery(session, user_id, address=address, phone=phone)
