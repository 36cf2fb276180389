"""Background jobs of the catalog: thin wrappers that pass ids to the services."""

from __future__ import annotations

from flask import current_app

from catalog.fulfilment import orders_waiting_for_providers, submit_to_providers
from catalog.models import ProviderStatus
from partner_club.extensions import db
from partner_club.jobs.services import JobContext, enqueue


def submit_order(ctx: JobContext, *, order_id: int) -> dict:
    status = submit_to_providers(db.session, order_id, current_app.config)
    db.session.commit()
    ctx.progress(1, 1, status)
    return {"order_id": order_id, "status": status}


def retry_waiting_orders(ctx: JobContext) -> dict:
    """One more attempt for every order whose provider has not answered yet."""
    order_ids = orders_waiting_for_providers(db.session)
    results = {}
    for done, order_id in enumerate(order_ids, start=1):
        results[str(order_id)] = submit_to_providers(db.session, order_id, current_app.config)
        db.session.commit()
        ctx.progress(done, len(order_ids))
    return {"orders": results}


def schedule_submission(session, order) -> None:
    """After the commit, send the order's gift-card lines to their provider."""
    if any(line.provider_status == ProviderStatus.PENDING.value for line in order.lines):
        enqueue(session, submit_order, title=f"Prize order {order.id}: gift-card provider", order_id=order.id)
