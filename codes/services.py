"""Products, batches and the registration of codes.

Every entry point (the typed form, the deep link `/c/<code>`, the API, the
scanner) calls `register_code`. It normalises, decodes, checks the batch,
asks the fraud checks through `partner_club.signals`, stores the (batch,
serial) pair under its unique constraint, credits points through the ledger
and announces the registration, all in the caller's transaction.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Optional

from flask import current_app
from flask_babel import format_datetime, gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from partner_club import throttle
from partner_club.accounts.models import User
from partner_club.audit.services import record as audit
from partner_club.database import utcnow
from partner_club.errors import Conflict, Forbidden, Invalid
from partner_club.ledger import services as ledger
from partner_club.regions.models import Region
from partner_club.signals import (HOLD, REJECT, Assessment, Reason, RegistrationAttempt, assess_registration,
                                  registration_recorded, registration_reviewed)

from codes.models import (Batch, BatchStatus, Product, ProductRuleChange, Registration, RegistrationStatus,
                          RuleKind, VoidedRange)
from codes.normalize import CodeRejected, read
from codes.scheme import MAX_BATCH, CodeScheme, scheme_from_setting

__all__ = ["CodeRejected", "AlreadyRegistered", "Rejected", "RegistrationContext", "RegistrationResult",
           "register_code"]

CAUSE = "registration"
THROTTLE_SCOPE = "code"
# The same person sending the same code again within this time gets the first
# answer back (a retried request, a double tap), not a refusal.
IDEMPOTENCY_WINDOW = timedelta(minutes=10)
MAX_BATCH_COUNT = 100_000_000


class AlreadyRegistered(Conflict):
    code = "already_registered"


class Rejected(Invalid):
    code = "fraud_rejected"


def current_scheme() -> CodeScheme:
    return scheme_from_setting(current_app.config["CODE_KEYS"])


def code_url(code: str) -> str:
    return f"{current_app.config['PUBLIC_URL']}/c/{code}"


# --- products -----------------------------------------------------------------

def parse_points(text: str) -> tuple[str, float]:
    """"25" -> fixed 25 per package; "120/m3" -> 120 per cubic metre."""
    raw = (text or "").strip().lower().replace(" ", "").replace("м3", "m3").replace("m³", "m3")
    kind = RuleKind.FIXED.value
    if raw.endswith("/m3"):
        kind, raw = RuleKind.PER_M3.value, raw[:-3]
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        raise Invalid(_("Points must be a number, or a number followed by /m3."), code="bad_points") from None
    if value < 0 or value != value or value > 1_000_000:
        raise Invalid(_("Points must be a number between 0 and 1000000."), code="bad_points")
    return kind, value


def _volume(text: Any) -> Optional[float]:
    if text is None or str(text).strip() == "":
        return None
    try:
        value = float(str(text).strip().replace(",", "."))
    except ValueError:
        raise Invalid(_("The volume must be a number of cubic metres."), code="bad_volume") from None
    if value < 0 or value != value:
        raise Invalid(_("The volume must be a number of cubic metres."), code="bad_volume")
    return value


def save_product(session: Session, *, sku: str, name: str, kind: str = "", package: str = "",
                 volume_m3: Any = None, points: str, actor: Optional[User] = None,
                 source: str = "admin", product: Optional[Product] = None) -> Product:
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
    changed = (product is None or product.rule_kind != rule_kind or product.rule_value != rule_value
               or product.volume_m3 != volume)
    if product is None:
        product = Product(sku=sku)
        session.add(product)
    product.sku, product.name = sku, name
    product.kind, product.package = (kind or "").strip()[:64], (package or "").strip()[:64]
    product.volume_m3, product.rule_kind, product.rule_value = volume, rule_kind, rule_value
    session.flush()
    if changed:
        session.add(ProductRuleChange(product_id=product.id, rule_kind=rule_kind, rule_value=rule_value,
                                      volume_m3=volume, changed_by_id=actor.id if actor else None,
                                      source=source))
        audit(session, actor, "product.rule", product, rule=product.rule_text, volume_m3=volume)
    session.flush()
    return product


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


PRODUCT_COLUMNS = ("sku", "name", "kind", "package", "volume_m3", "points")


def import_products(session: Session, text: str, *, actor: Optional[User] = None) -> ImportReport:
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
            save_product(session, sku=sku, name=row.get("name") or "", kind=row.get("kind") or "",
                         package=row.get("package") or "", volume_m3=row.get("volume_m3"),
                         points=row.get("points") or "", actor=actor, source="import")
        except Invalid as error:
            report.errors.append((line, error.message))
            continue
        if exists:
            report.updated += 1
        else:
            report.created += 1
    return report


# --- batches ------------------------------------------------------------------

def issue_batch(session: Session, product: Product, count: int, *, region: Optional[Region] = None,
                distributor: str = "", production_lot: str = "", is_canary: bool = False,
                actor: Optional[User] = None) -> Batch:
    """A new batch number for `count` codes, under the newest key version."""
    if not 1 <= count <= MAX_BATCH_COUNT:
        raise Invalid(_("A batch holds 1 to %(max)s codes.", max=MAX_BATCH_COUNT), code="bad_count")
    if not product.active:
        raise Invalid(_("This product is no longer active."), code="product_inactive")
    number = (session.scalar(select(func.max(Batch.number))) or 0) + 1
    if number > MAX_BATCH:
        raise Conflict(_("No batch numbers are left under this key."), code="batch_numbers_exhausted")
    batch = Batch(number=number, product_id=product.id, key_version=current_scheme().current_version,
                  count=count, region_id=region.id if region else None,
                  distributor=(distributor or "").strip() or None,
                  production_lot=(production_lot or "").strip() or None,
                  is_canary=is_canary, created_by_id=actor.id if actor else None)
    session.add(batch)
    session.flush()
    audit(session, actor, "batch.issue", batch, number=number, sku=product.sku, count=count,
          canary=is_canary)
    return batch


def set_batch_status(session: Session, batch: Batch, status: BatchStatus, *, actor: Optional[User]) -> Batch:
    if BatchStatus(batch.status) is status:
        return batch
    if not batch.can_move_to(status):
        raise Conflict(_("A %(current)s batch cannot become %(new)s.", current=batch.status_label,
                         new=status.value), code="bad_transition")
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


def void_range(session: Session, batch: Batch, from_serial: int, to_serial: int, *, reason: str = "",
               actor: Optional[User]) -> VoidedRange:
    if not 1 <= from_serial <= to_serial <= batch.count:
        raise Invalid(_("The range must lie within serials 1 to %(count)s.", count=batch.count),
                      code="bad_range")
    voided = VoidedRange(batch_id=batch.id, from_serial=from_serial, to_serial=to_serial,
                         reason=(reason or "").strip()[:500], created_by_id=actor.id if actor else None)
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
    link = hashlib.sha1(code_url("").encode()).hexdigest()[:8]
    name = f"batch-{batch.number}-k{batch.key_version}-n{batch.count}-{link}.csv"
    return os.path.join(instance_path, "print_files", name)


def batch_code(batch: Batch, serial: int) -> str:
    return current_scheme().encode(batch.number, serial, batch.key_version)


# --- registration -------------------------------------------------------------

@dataclass(frozen=True)
class RegistrationContext:
    ip: Optional[str] = None
    device: Optional[str] = None
    lat: Optional[float] = None
    lon: Optional[float] = None
    at: Optional[datetime] = None


@dataclass(frozen=True)
class RegistrationResult:
    status: str
    points: int
    product: dict[str, str]
    registration_id: int
    created: bool = True          # False: the same person's earlier answer, returned again
    registered_at: Optional[datetime] = None

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "points": self.points, "product": self.product,
                "registration_id": self.registration_id}


@dataclass(frozen=True)
class Found:
    code: str
    batch: Batch
    serial: int


def register_code(session: Session, participant: User, raw: str, *, channel: str,
                  ctx: RegistrationContext) -> RegistrationResult:
    """Registers one typed, scanned or linked code for a shop owner or seller.

    On `CodeRejected` the only write is the invalid-attempt counter, which
    must survive: the caller commits after the refusal (see `commit_refusal`).
    """
    at = ctx.at or utcnow()
    found = _locate(session, participant, raw, ctx.ip, at)
    earlier = _registration_of(session, found)
    if earlier is not None:
        return _answer_again(earlier, participant, at)

    attempt = _attempt(session, participant, found, channel, ctx, at)
    assessment = _assess(attempt, found)
    if assessment.decision == REJECT:
        raise Rejected(_("This registration was refused by the club's checks."))
    pending = assessment.decision == HOLD
    registration = Registration(
        batch_id=found.batch.id, serial=found.serial, participant_id=participant.id,
        outlet_id=participant.outlet_id, product_id=found.batch.product_id, channel=channel,
        status=(RegistrationStatus.PENDING_REVIEW if pending else RegistrationStatus.ACCEPTED).value,
        points=attempt.points, created_at=at, ip=ctx.ip, device=(ctx.device or "")[:300] or None,
        lat=ctx.lat, lon=ctx.lon)
    try:
        _insert(session, registration)
    except IntegrityError:  # a parallel request stored the same code first
        earlier = _registration_of(session, found)
        if earlier is None:
            raise
        return _answer_again(earlier, participant, at)
    if registration.points > 0:
        ledger.credit_registration(session, participant, registration.points, pending=pending,
                                   cause_type=CAUSE, cause_id=registration.id, at=at)
    attempt.registration_id = registration.id
    attempt.extra["assessment"] = assessment
    registration_recorded.send(attempt)
    return _result(registration, created=True)


def _locate(session: Session, participant: User, raw: str, ip: Optional[str], at: datetime) -> Found:
    """The valid, earning code behind the input; invalid attempts are counted."""
    if not participant.is_participant:
        raise Forbidden(_("Only shop owners and sellers register codes."))
    counted = throttle.subjects(participant.id, ip)
    throttle.check(session, THROTTLE_SCOPE, counted, now=at)
    try:
        found = find_code(session, raw)
        _check_batch(found)
    except CodeRejected:
        throttle.record_failure(session, THROTTLE_SCOPE, counted, now=at)
        raise
    return found


@dataclass(frozen=True)
class Preview:
    code: str
    product: Product
    points: int


def preview_code(session: Session, participant: User, raw: str, *, ip: Optional[str] = None,
                 at: Optional[datetime] = None) -> Preview:
    """What registering a code would give, for the one-tap confirmation of a deep link.

    Counts invalid attempts like `register_code` (a preview must not be a
    free oracle for guessing); already registered codes raise AlreadyRegistered.
    """
    at = at or utcnow()
    found = _locate(session, participant, raw, ip, at)
    earlier = _registration_of(session, found)
    if earlier is not None:
        if earlier.participant_id != participant.id:
            raise AlreadyRegistered(_("This code is already registered by another participant."))
        raise AlreadyRegistered(_("This code was registered by you on %(date)s.",
                                  date=format_datetime(earlier.created_at, "short")))
    product = found.batch.product
    return Preview(code=found.code, product=product, points=registration_points(product, at))


def commit_refusal(session: Session, error: Exception) -> None:
    """What a view does after a refusal: keep the attempt counter, drop the rest."""
    if isinstance(error, CodeRejected):
        session.commit()
    else:
        session.rollback()


def _insert(session: Session, registration: Registration) -> None:
    """Inserts under the unique (batch, serial) constraint.

    On PostgreSQL a savepoint keeps the transaction usable when a parallel
    request won, so the loser can answer who registered first. pysqlite
    cannot nest a savepoint in a transaction it has not begun (RELEASE would
    commit), and SQLite runs one writer at a time anyway: there the loser
    gets "already registered" and its request rolls back.
    """
    if session.get_bind().dialect.name != "postgresql":
        try:
            session.add(registration)
            session.flush()
        except IntegrityError:
            raise AlreadyRegistered(_("This code is already registered.")) from None
        return
    with session.begin_nested():
        session.add(registration)


def find_code(session: Session, raw: str) -> Found:
    """The issued code behind the input: the first reading that decrypts to a known batch."""
    reading = read(raw or "", current_app.config.get("PUBLIC_URL"))
    scheme = current_scheme()
    for candidate in reading.candidates:
        for decoded in scheme.decode(candidate):
            batch = session.scalar(select(Batch).where(Batch.number == decoded.batch,
                                                       Batch.key_version == decoded.key_version))
            if batch is not None:
                return Found(candidate, batch, decoded.serial)
    raise CodeRejected(_("This code is not a Partner Club code. Please check it."), code="unknown_batch")


def _check_batch(found: Found) -> None:
    batch, serial = found.batch, found.serial
    if not 1 <= serial <= batch.count:
        raise CodeRejected(_("This code is not a Partner Club code. Please check it."),
                           code="serial_out_of_range")
    if batch.status == BatchStatus.VOIDED.value:
        raise CodeRejected(_("This code has been withdrawn and earns no points."), code="batch_voided")
    if any(r.from_serial <= serial <= r.to_serial for r in batch.voided_ranges):
        raise CodeRejected(_("This code has been withdrawn and earns no points."), code="batch_voided")
    if batch.status != BatchStatus.ACTIVATED.value and not batch.is_canary:
        raise CodeRejected(_("This code is not active yet: its goods have not been shipped."),
                           code="batch_not_active")


def _registration_of(session: Session, found: Found) -> Optional[Registration]:
    return session.scalar(select(Registration).where(Registration.batch_id == found.batch.id,
                                                     Registration.serial == found.serial))


def _answer_again(earlier: Registration, participant: User, at: datetime) -> RegistrationResult:
    if earlier.participant_id != participant.id:
        raise AlreadyRegistered(_("This code is already registered by another participant."))
    if at - earlier.created_at <= IDEMPOTENCY_WINDOW and earlier.status != RegistrationStatus.REJECTED.value:
        return _result(earlier, created=False)
    raise AlreadyRegistered(_("This code was registered by you on %(date)s.",
                              date=format_datetime(earlier.created_at, "short")))


def _result(registration: Registration, *, created: bool) -> RegistrationResult:
    product = registration.product
    return RegistrationResult(status=registration.status, points=registration.points,
                              product={"sku": product.sku, "name": product.name},
                              registration_id=registration.id, created=created,
                              registered_at=registration.created_at)


def _attempt(session: Session, participant: User, found: Found, channel: str, ctx: RegistrationContext,
             at: datetime) -> RegistrationAttempt:
    outlet = participant.outlet
    territory = outlet.territory if outlet is not None else participant.territory
    region_id = outlet.region_id if outlet is not None else (territory.region_id if territory else None)
    product = found.batch.product
    return RegistrationAttempt(
        session=session, at=at, participant_id=participant.id, outlet_id=participant.outlet_id,
        region_id=region_id, territory_id=territory.id if territory else None, channel=channel,
        ip=ctx.ip, device=ctx.device, lat=ctx.lat, lon=ctx.lon, code=found.code,
        batch_id=found.batch.id, batch_number=found.batch.number, serial=found.serial,
        batch_status=found.batch.status, batch_region_id=found.batch.region_id,
        is_canary=found.batch.is_canary, product_id=product.id, product_sku=product.sku,
        volume_m3=product.volume_m3, points=registration_points(product, at))


def registration_points(product: Product, at: datetime) -> int:
    """Points for one package. The seam for campaign multipliers: apply them here."""
    return product.points


def _assess(attempt: RegistrationAttempt, found: Found) -> Assessment:
    assessment = assess_registration(attempt)
    if found.batch.is_canary and assessment.decision not in (HOLD, REJECT):
        # A canary code was never printed: whoever has it saw a leaked list.
        assessment.decision = HOLD
        assessment.reasons.append(Reason("canary", 1.0, "A canary code (never printed) was registered.",
                                         {"batch": found.batch.number, "serial": found.serial}))
    return assessment


def review_registration(session: Session, registration_id: int, *, decision: str,
                        reviewer: Optional[User], note: str = "") -> Registration:
    """A reviewer's decision on a held registration: its points become active or vanish."""
    registration = session.get(Registration, registration_id)
    if registration is None:
        raise Invalid(_("There is no such registration."), code="unknown_registration")
    if registration.status != RegistrationStatus.PENDING_REVIEW.value:
        raise Conflict(_("This registration was already reviewed."), code="already_reviewed")
    if decision not in ("accept", "reject"):
        raise Invalid(_("The decision is accept or reject."), code="bad_decision")
    accepted = decision == "accept"
    registration.status = (RegistrationStatus.ACCEPTED if accepted else RegistrationStatus.REJECTED).value
    registration.reviewed_at = utcnow()
    registration.reviewed_by_id = reviewer.id if reviewer else None
    registration.review_note = note or None
    if registration.points > 0:
        if accepted:
            ledger.confirm(session, cause_type=CAUSE, cause_id=registration.id, actor=reviewer)
        else:
            ledger.reject(session, cause_type=CAUSE, cause_id=registration.id, actor=reviewer, reason=note)
    session.flush()
    return registration


def _on_reviewed(registration_id: int, *, session: Session, decision: str, reviewer: Optional[User] = None,
                 note: str = "", **_extra: Any) -> Registration:
    return review_registration(session, registration_id, decision=decision, reviewer=reviewer, note=note)


registration_reviewed.connect(_on_reviewed)
