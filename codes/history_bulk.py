"""Past registrations in bulk: a chunk of history in a handful of statements.

`registrations import` without `--fraud` stores known-good history. One line at
a time (`store_registration`) costs a lookup, an insert and a ledger credit of
three statements each, about a hundred lines a second; a million lines took
hours. Here a chunk is checked in Python against the batches read once, its
registrations go in with one INSERT ... ON CONFLICT DO NOTHING (the unique
(batch, serial) still decides, so a file imported twice pays nothing twice),
and its points with one `credit_many`. The KPI rollups fold the new rows like
any others, through `registrations_imported`.

A chunk that falls in a running campaign's period goes the one-by-one way,
where campaigns add their points and record their awards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from codes.models import (
    Batch,
    BatchStatus,
    Product,
    Registration,
    RegistrationStatus,
    VoidedRange,
    package_points,
)
from codes.normalize import CodeRejected, read
from codes.services import CAUSE, CodeProduct, current_scheme, registration_breakdown
from partner_club.accounts.models import User
from partner_club.campaigns.evaluate import running_rules
from partner_club.ledger.credits import Accrual, credit_many
from partner_club.signals import registrations_imported

if TYPE_CHECKING:
    from codes.history_import import Event, HistoryReport


@dataclass(frozen=True, slots=True)
class _Batch:
    id: int
    number: int
    count: int
    status: str
    activated_at: datetime | None
    product: CodeProduct
    voided: tuple[tuple[int, int], ...]

    def is_voided(self, serial: int) -> bool:
        return any(first <= serial <= last for first, last in self.voided)


class Catalogue:
    """Every batch with its product and voided ranges, read once per import."""

    def __init__(self, session: Session) -> None:
        voided: dict[int, list[tuple[int, int]]] = {}
        for batch_id, first, last in session.execute(
            select(VoidedRange.batch_id, VoidedRange.from_serial, VoidedRange.to_serial)
        ):
            voided.setdefault(batch_id, []).append((first, last))
        self.batches: dict[tuple[int, int], _Batch] = {}
        rows = session.execute(select(Batch, Product).join(Product, Product.id == Batch.product_id))
        for batch, product in rows:
            self.batches[(batch.number, batch.key_version)] = _Batch(
                batch.id,
                batch.number,
                batch.count,
                batch.status,
                batch.activated_at,
                CodeProduct(
                    product.id,
                    product.sku,
                    product.name,
                    product.volume_m3,
                    package_points(product.rule_kind, product.rule_value, product.volume_m3),
                    product.kind,
                    product.package,
                ),
                tuple(voided.get(batch.id, ())),
            )
        self.public_url = current_app.config.get("PUBLIC_URL")
        self.scheme = current_scheme()

    def locate(self, event: Event) -> tuple[_Batch, int]:
        """The batch and serial of a code that had shipped by the event's time, or CodeRejected
        with the same words as the one-by-one path."""
        for candidate in read(event.code, self.public_url).candidates:
            for decoded in self.scheme.decode(candidate):
                batch = self.batches.get((decoded.batch, decoded.key_version))
                if batch is not None:
                    return _shipped(batch, decoded.serial, event.at)
        raise CodeRejected(_("This code is not a Partner Club code. Please check it."), code="unknown_batch")


def _shipped(batch: _Batch, serial: int, at: datetime) -> tuple[_Batch, int]:
    if not 1 <= serial <= batch.count or batch.is_voided(serial) or batch.status == BatchStatus.VOIDED.value:
        raise CodeRejected(_("This code has been withdrawn and earns no points."), code="batch_voided")
    if batch.status != BatchStatus.ACTIVATED.value:
        raise CodeRejected(
            _(
                "batch %(number)d has not shipped: run codes activate %(number)d --at DATE",
                number=batch.number,
            ),
            code="batch_not_active",
        )
    if batch.activated_at is not None and at < batch.activated_at:
        raise CodeRejected(
            _(
                "registered before batch %(number)d shipped (%(date)s)",
                number=batch.number,
                date=batch.activated_at.date().isoformat(),
            ),
            code="before_shipping",
        )
    return batch, serial


def campaigns_touch(session: Session, events: list[Event]) -> bool:
    """Whether a running campaign's period meets the chunk's time span."""
    rules = running_rules(session)
    if not rules or not events:
        return False
    first, last = min(e.at for e in events), max(e.at for e in events)
    return any(rule.starts_at <= last and first < rule.ends_at for rule in rules)


def store_chunk(
    session: Session,
    events: list[Event],
    person_ids: Callable[[Event], int],
    catalogue: Catalogue,
    report: HistoryReport,
) -> None:
    """Stores a chunk's registrations (sorted by time) and credits their points in bulk."""
    outlets = _outlets_of(session, {person_ids(event) for event in events})
    rows: dict[tuple[int, int], dict] = {}
    firsts: dict[tuple[int, int], Event] = {}
    for event in events:
        try:
            batch, serial = catalogue.locate(event)
        except CodeRejected as error:
            report.add_bad(event.line, f"{error.code}: {error.message}")
            continue
        if (batch.id, serial) in rows:
            _duplicate(report, event)
            continue
        person = person_ids(event)
        firsts[(batch.id, serial)] = event
        rows[(batch.id, serial)] = {
            "batch_id": batch.id,
            "serial": serial,
            "participant_id": person,
            "outlet_id": outlets.get(person),
            "product_id": batch.product.id,
            "channel": event.channel,
            "status": RegistrationStatus.ACCEPTED.value,
            "points": sum(line["points"] for line in registration_breakdown(batch.product, event.at)),
            "created_at": event.at,
            "ip": event.ip,
            "device": (event.device or "")[:300] or None,
            "lat": event.lat,
            "lon": event.lon,
            "_breakdown": registration_breakdown(batch.product, event.at),
        }
    stored = _insert(session, rows)
    for key, event in firsts.items():
        if key not in stored:
            _duplicate(report, event)
    credit_many(
        session,
        [
            Accrual(
                row["participant_id"],
                row["outlet_id"],
                row["points"],
                row["_breakdown"],
                stored[key],
                row["created_at"],
            )
            for key, row in rows.items()
            if key in stored and row["points"] > 0
        ],
        cause_type=CAUSE,
    )
    report.registered += len(stored)
    if stored:
        registrations_imported.send(session, count=len(stored))


def _duplicate(report: HistoryReport, event: Event) -> None:
    report.duplicates += 1
    report.add_bad(event.line, _("the code %(code)s is already registered", code=event.code))


def _outlets_of(session: Session, person_ids: set[int]) -> dict[int, int | None]:
    ids = sorted(person_ids)
    outlets: dict[int, int | None] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        outlets.update(
            (row.id, row.outlet_id)
            for row in session.execute(select(User.id, User.outlet_id).where(User.id.in_(part)))
        )
    return outlets


def _insert(session: Session, rows: dict[tuple[int, int], dict]) -> dict[tuple[int, int], int]:
    """(batch id, serial) -> new registration id of the rows that were not registered yet."""
    if not rows:
        return {}
    session.flush()
    connection = session.connection()
    table = Registration.__table__
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.batch_id, table.c.serial])
        .returning(table.c.batch_id, table.c.serial, table.c.id)
    )
    values = [{k: v for k, v in row.items() if not k.startswith("_")} for row in rows.values()]
    return {(batch_id, serial): reg_id for batch_id, serial, reg_id in connection.execute(statement, values)}
