"""Fraud's answers to the registration signals (imported by fraud.views, so the factory connects them)."""
from __future__ import annotations

from typing import Optional

from partner_club.signals import Assessment, RegistrationAttempt, registration_checks, registration_recorded

from fraud import services


@registration_checks.connect
def check_registration(attempt: RegistrationAttempt, **_kwargs) -> Optional[Assessment]:
    return services.assess_attempt(attempt.session, attempt)


@registration_recorded.connect
def remember_registration(attempt: RegistrationAttempt, **_kwargs) -> None:
    services.link_registration(attempt.session, attempt)
