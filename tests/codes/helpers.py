"""Builders shared by the codes tests."""

from __future__ import annotations

from codes import issuing, services
from codes.models import Batch, BatchStatus, Product


def product(
    session,
    sku: str = "PAINT-10L",
    points: str = "25",
    volume: float | None = 0.01,
    name: str = "Facade paint 10 l",
) -> Product:
    return issuing.save_product(
        session, sku=sku, name=name, kind="paint", package="bucket", volume_m3=volume, points=points
    )


def batch(
    session, prod: Product | None = None, count: int = 100, status: BatchStatus = BatchStatus.ACTIVATED, **kw
) -> Batch:
    prod = prod or product(session)
    issued = issuing.issue_batch(session, prod, count, **kw)
    if status is not BatchStatus.GENERATED:
        issued.status = status.value
        session.flush()
    return issued


def code(batch_: Batch, serial: int) -> str:
    return services.batch_code(batch_, serial)
