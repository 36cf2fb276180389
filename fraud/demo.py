"""Demo data of the fraud package, loaded by `flask demo seed` after the codes package.

A little suspicious history, registered through the real registration path so
the detectors decide: a seller scanning a roll of labels, a batch shipped to
one region registered in another, and a night burst. The held ones wait in
the review queue (/fraud/).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from codes.models import Batch, BatchStatus
from codes.services import RegistrationContext, batch_code, register_code
from partner_club.demo.world import DemoWorld
from partner_club.errors import DomainError
from partner_club.regions.zones import region_zone, zone_info


def seed(session: Session, world: DemoWorld) -> None:
    batches = list(
        session.scalars(
            select(Batch)
            .where(Batch.status == BatchStatus.ACTIVATED.value, Batch.is_canary.is_(False))
            .order_by(Batch.id)
        )
    )
    sellers = [s for s in world.sellers if s.outlet is not None]
    if len(batches) < 3 or len(sellers) < 3 or len(world.regions) < 2:
        return
    yesterday = (world.now - timedelta(days=1)).replace(hour=11, minute=0, second=0, microsecond=0)
    held = 0

    def register(person, batch, serial, at, **ctx):
        nonlocal held
        try:
            result = register_code(
                session,
                person,
                batch_code(batch, serial),
                channel=ctx.pop("channel", "scan"),
                ctx=RegistrationContext(at=at, **ctx),
            )
        except DomainError:
            return
        held += result.status == "pending_review"

    # A roll of labels: neighbouring serials, a minute apart.
    roller = sellers[0]
    for i in range(9):
        register(
            roller,
            batches[2],
            19_601 + i,
            yesterday + timedelta(minutes=i),
            ip="10.20.30.40",
            device=f"demo-roll-{roller.id}",
        )
    # A batch shipped to one region, registered by a shop in another.
    elsewhere = next((s for s in sellers[1:] if s.outlet.region_id != world.regions[0].id), None)
    if elsewhere is not None:
        shipped = Batch(
            number=batches[-1].number + 100,
            product_id=batches[0].product_id,
            key_version=batches[0].key_version,
            count=500,
            region_id=world.regions[0].id,
            status=BatchStatus.ACTIVATED.value,
            activated_at=world.now - timedelta(days=30),
            production_lot="L-2026-REG",
        )
        session.add(shipped)
        session.flush()
        for i, serial in enumerate((17, 240, 411)):
            register(
                elsewhere,
                shipped,
                serial,
                yesterday + timedelta(hours=2, minutes=20 * i),
                ip="10.20.30.41",
                device=f"demo-geo-{elsewhere.id}",
            )
    # A night burst: 02:05 on the shop's own clock.
    owl = sellers[2]
    zone = zone_info(region_zone(owl.outlet.region.iso_code)) or ZoneInfo("Europe/Moscow")
    night = datetime.combine(yesterday.astimezone(zone).date(), time(2, 5), tzinfo=zone).astimezone(UTC)
    for i in range(6):
        register(
            owl,
            batches[1],
            18_500 + 37 * i,
            night + timedelta(minutes=4 * i),
            ip="10.20.30.42",
            device=f"demo-night-{owl.id}",
            channel="typed",
        )
    session.flush()
    world.notes.append(
        f"Fraud: {held} registrations held for review at /fraud/ (a label roll, "
        f"a batch registered outside its region, a night burst)."
    )
