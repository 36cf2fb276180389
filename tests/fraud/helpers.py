"""Shared test helpers for the fraud package."""

from __future__ import annotations

from partner_club.signals import RegistrationAttempt


def attempt(session, seller, serial, at, **kw) -> RegistrationAttempt:
    """A decoded registration attempt of the seller's shop, as codes would describe it."""
    values = dict(
        session=session,
        at=at,
        participant_id=seller.id,
        outlet_id=seller.outlet_id,
        region_id=seller.outlet.region_id,
        territory_id=None,
        channel="qr",
        ip="10.1.1.1",
        device=f"phone-{seller.id}",
        code="X",
        batch_id=1,
        batch_number=1,
        serial=serial,
        batch_status="activated",
        batch_region_id=seller.outlet.region_id,
    )
    values.update(kw)
    return RegistrationAttempt(**values)
