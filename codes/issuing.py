"""Products with their points rules, and batches of codes: issue, move, void.

Registration lives in `codes.services`; this module is the admin side.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from codes import keys
from codes.models import (
    Batch,
    BatchStatus,
    Product,
    ProductRuleChange,
    RuleKind,
    VoidedRange,
)
from codes.scheme import MAX_BATCH
from codes.services import code_url, current_scheme
from partner_club.accounts.models import User
from partner_club.audit.services import record as audit
from partner_club.database import utcnow
from partner_club.errors import Conflict, Invalid
from partner_club.regions.models import Region

MAX_BATCH_COUNT = 100_000_000
BATCH_NUMBER_LOCK = 0x0C0DE5  # pg advisory lock key for batch numbers


# --- products -----------------------------------------------------------------


def parse_points(text: str) -> tuple[str, float]:
    """ "25" -> fixed 25 per package; "120/m3" -> 120 per cubic metre."""
    raw = (text or "").strip().lower().replace(" ", "").replace("м3", "m3").replace("m³", "m3")
    kind = RuleKind.FIXED.value
    if raw.endswith("/m3"):
        kind, raw = RuleKind.PER_M3.value, raw[:-3]
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        raise Invalid(_("Points must be a number, or a number followed by /m3."), code="bad_points") from None
    if not 0 <= value <= 1_000_000:  # also refuses NaN
        raise Invalid(_("Points must be a number between 0 and 1000000."), code="bad_points")
    return kind, value


def _volume(text: Any) -> float | None:
    if text is None or str(text).strip() == "":
        return None
    try:
        value = float(str(text).strip().replace(",", "."))
    except ValueError:
        raise Invalid(_("The volume must be a number of cubic metres."), code="bad_volume") from None
    if not 0 <= value < math.inf:  # also refuses NaN and infinity
        raise Invalid(_("The volume must be a number of cubic metres."), code="bad_volume")
    return value


def save_product(
    session: Session,
    *,
    sku: str,
    name: str,
    kind: str = "",
    package: str = "",
    volume_m3: Any = None,
    points: str,
    actor: User | None = None,
    source: str = "admin",
    product: Product | None = None,
) -> Product:
    """Creates or updates a product; a changed points rule gets a history row."""
    sku, name = (sku or "").strip(), (name or "").strip()
    if not sku or len(sku) > 64:
        raise Invalid(_("The SKU is required (at most 64 characters)."), code="bad_sku")
    if not name or len(name) > 200:
        raise Invalid(_("The name is required (at most 200 characters)."), code="bad_name")
    rule_kind, rule_value = parse_points(points)
    volume = _volume(volume_m3)
    if rule_kind == RuleKind.PER_M3.value and not volume:
        raise Invalid(_("Points per m3 need the package volume."), code="bad_volume")
    if product is None:
        product = session.scalar(select(Product).where(Product.sku == sku))
    elif product.sku != sku and session.scalar(select(Product.id).where(Product.sku == sku)):
        raise Conflict(_("Another product already has SKU %(sku)s.", sku=sku), code="duplicate_sku")
    changed = (
        product is None
        or product.rule_kind != rule_kind
        or product.rule_value != rule_value
        or product.volume_m3 != volume
    )
    if product is None:
        product = Product(sku=sku)
        session.add(product)
    product.sku, product.name = sku, name
    product.kind, product.package = (kind or "").strip()[:64], (package or "").strip()[:64]
    product.volume_m3, product.rule_kind, product.rule_value = volume, rule_kind, rule_value
    session.flush()
    if changed:
        session.add(
            ProductRuleChange(
                product_id=product.id,
                rule_kind=rule_kind,
                rule_value=rule_value,
                volume_m3=volume,
                changed_by_id=actor.id if actor else None,
                source=source,
            )
        )
        audit(session, actor, "product.rule", product, rule=product.rule_text, volume_m3=volume)
    session.flush()
    return product


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


PRODUCT_COLUMNS = ("sku", "name", "kind", "package", "volume_m3", "points")


def import_products(session: Session, text: str, *, actor: User | None = None) -> ImportReport:
    """Loads `sku,name,kind,package,volume_m3,points` rows; all or nothing.

    Every bad row is reported with its line number; with any error nothing is
    kept (the caller rolls back), so a fixed file can simply be loaded again.
    """
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in PRODUCT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        report.errors.append((1, _("Missing columns: %(columns)s.", columns=", ".join(missing))))
        return report
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        sku = (row.get("sku") or "").strip()
        if sku in seen:
            report.errors.append((line, _("SKU %(sku)s appears twice in the file.", sku=sku)))
            continue
        seen.add(sku)
        exists = session.scalar(select(Product.id).where(Product.sku == sku)) is not None
        try:  # save_product validates before it changes anything, so no savepoint is needed
            save_product(
                session,
                sku=sku,
                name=row.get("name") or "",
                kind=row.get("kind") or "",
                package=row.get("package") or "",
                volume_m3=row.get("volume_m3"),
                points=row.get("points") or "",
                actor=actor,
                source="import",
            )
        except Invalid as error:
            report.errors.append((line, error.message))
            continue
        if exists:
            report.updated += 1
        else:
            report.created += 1
    return report


# --- batches ------------------------------------------------------------------


def issue_batch(
    session: Session,
    product: Product,
    count: int,
    *,
    region: Region | None = None,
    distributor: str = "",
    production_lot: str = "",
    is_canary: bool = False,
    actor: User | None = None,
) -> Batch:
    """A new batch number for `count` codes, under the newest key version."""
    if not 1 <= count <= MAX_BATCH_COUNT:
        raise Invalid(_("A batch holds 1 to %(max)s codes.", max=MAX_BATCH_COUNT), code="bad_count")
    if not product.active:
        raise Invalid(_("This product is no longer active."), code="product_inactive")
    if session.get_bind().dialect.name == "postgresql":
        # Two admins issuing at once would otherwise both take max + 1; the
        # lock lasts until their transaction ends. (SQLite has one writer.)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BATCH_NUMBER_LOCK})
    number = (session.scalar(select(func.max(Batch.number))) or 0) + 1
    if number > MAX_BATCH:
        raise Conflict(_("No batch numbers are left under this key."), code="batch_numbers_exhausted")
    batch = Batch(
        number=number,
        product_id=product.id,
        key_version=current_scheme().current_version,
        count=count,
        region_id=region.id if region else None,
        distributor=(distributor or "").strip() or None,
        production_lot=(production_lot or "").strip() or None,
        is_canary=is_canary,
        created_by_id=actor.id if actor else None,
    )
    session.add(batch)
    session.flush()
    keys.remember_fingerprint(session, current_scheme(), batch.key_version)
    audit(session, actor, "batch.issue", batch, number=number, sku=product.sku, count=count, canary=is_canary)
    return batch


def set_batch_status(session: Session, batch: Batch, status: BatchStatus, *, actor: User | None) -> Batch:
    if BatchStatus(batch.status) is status:
        return batch
    if not batch.can_move_to(status):
        raise Conflict(
            _("A %(current)s batch cannot become %(new)s.", current=batch.status_label, new=status.value),
            code="bad_transition",
        )
    if batch.is_canary and status in (BatchStatus.PRINTED, BatchStatus.ACTIVATED):
        raise Conflict(_("Canary batches are never printed or shipped."), code="canary_batch")
    now = utcnow()
    batch.status = status.value
    if status is BatchStatus.PRINTED:
        batch.printed_at = now
    elif status is BatchStatus.ACTIVATED:
        batch.activated_at = now
    elif status is BatchStatus.VOIDED:
        batch.voided_at = now
    audit(session, actor, f"batch.{status.value}", batch, number=batch.number)
    session.flush()
    return batch


def void_range(
    session: Session, batch: Batch, from_serial: int, to_serial: int, *, reason: str = "", actor: User | None
) -> VoidedRange:
    if not 1 <= from_serial <= to_serial <= batch.count:
        raise Invalid(
            _("The range must lie within serials 1 to %(count)s.", count=batch.count), code="bad_range"
        )
    voided = VoidedRange(
        batch_id=batch.id,
        from_serial=from_serial,
        to_serial=to_serial,
        reason=(reason or "").strip()[:500],
        created_by_id=actor.id if actor else None,
    )
    session.add(voided)
    session.flush()
    audit(session, actor, "batch.void_range", batch, number=batch.number, range=[from_serial, to_serial])
    return voided


def batch_by_number(session: Session, number: int) -> Batch:
    batch = session.scalar(select(Batch).where(Batch.number == number))
    if batch is None:
        raise Invalid(_("There is no batch %(number)s.", number=number), code="unknown_batch")
    return batch


def print_file_path(instance_path: str, batch: Batch) -> str:
    """Where the job leaves a batch's CSV; the name holds everything its content depends on."""
    link = hashlib.sha1(code_url("").encode(), usedforsecurity=False).hexdigest()[:8]
    name = f"batch-{batch.number}-k{batch.key_version}-n{batch.count}-{link}.csv"
    return os.path.join(instance_path, "print_files", name)
