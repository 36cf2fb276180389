"""For tests that play codes' part: a registration attempt stored, as codes stores one."""

from __future__ import annotations

from partner_club import companions
from partner_club.signals import RegistrationAttempt, registration_recorded


def store(attempt: RegistrationAttempt, registration_id: int) -> None:
    """The rows written with the registration (`registration_companions`), then `registration_recorded`."""
    companions.write_after(attempt.session, companions.collect(attempt), registration_id)
    attempt.registration_id = registration_id
    registration_recorded.send(attempt)
