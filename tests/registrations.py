"""For tests that play codes' part: a registration attempt stored, as codes stores one."""

from __future__ import annotations

from partner_club.signals import Assessment, RegistrationAttempt, registration_recorded


def store(attempt: RegistrationAttempt, registration_id: int, assessment: Assessment | None = None) -> None:
    """Sends `registration_recorded` for a registration the test stored itself."""
    registration_recorded.send(attempt, registration_id=registration_id, assessment=assessment, credits=[])
