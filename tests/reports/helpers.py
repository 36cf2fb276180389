"""Small builders for report tests: registrations land through the real signals."""

from __future__ import annotations

from datetime import UTC, datetime

from partner_club.signals import RegistrationAttempt
from tests.registrations import store


def land(
    session,
    outlet,
    *,
    at: datetime,
    product_id: int = 1,
    sku: str = "SKU-1",
    volume: float = 0.5,
    points: int = 10,
    times: int = 1,
    participant_id: int = 1,
) -> None:
    """Stores registrations' companion rows and sends `registration_recorded`, as codes does."""
    for _ in range(times):
        store(
            RegistrationAttempt(
                session=session,
                at=at,
                participant_id=participant_id,
                outlet_id=outlet.id,
                region_id=outlet.region_id,
                territory_id=outlet.territory_id,
                channel="typed",
                product_id=product_id,
                product_sku=sku,
                volume_m3=volume,
                points=points,
            ),
            registration_id=1,
        )


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)
