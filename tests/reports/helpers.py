"""Small builders for report tests: counts land in the rollups as the fold job puts them there."""

from __future__ import annotations

from datetime import UTC, datetime

from reports.rollups import DailyCounts, add_to_rollups


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
    """Adds `times` folded registrations of one shop, product and day to the rollups."""
    day = at.astimezone(UTC).date()
    add_to_rollups(
        session,
        {(day, outlet.id, product_id): DailyCounts(times, volume * times, points * times, sku)},
    )


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)
