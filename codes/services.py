"""The registration of codes (products and batches are in `codes.issuing`).

Every entry point (the typed form, the deep link `/c/<code>`, the API, the
scanner) calls `register_code` with the channel the endpoint stands for. In
the caller's transaction it runs a few plain statements, the same on every
database (docs/architecture.md, "The flow of a registration"):

1. the lookup: one SELECT brings the batch, product, earlier registration,
   shop and throttle counters of the code;
2. fraud's assessment (`assess_registration`), which reads ahead once;
3. `INSERT ... ON CONFLICT (batch, serial) DO NOTHING RETURNING id`;
4. `partner_club.ledger.credits.credit(...)` with the points' breakdown;
5. `registration_recorded`, whose receivers write their own rows.

A refused code is counted by the throttle and sent to the fraud checks as a
failed attempt, so guessing shows live as it does in `fraud replay`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import Insert, Integer, String, and_, bindparam, exists, func, select
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
from codes.scheme import CodeScheme, scheme_from_setting
from partner_club import settings_store, throttle
from partner_club.accounts.models import User
from partner_club.campaigns.evaluate import Awards, release_awards
from partner_club.campaigns.evaluate import evaluate as evaluate_campaigns
from partner_club.campaigns.referrals import pay_referral
from partner_club.campaigns.services import CampaignData, provide_product_count, provide_product_names
from partner_club.database import utcnow
from partner_club.errors import Conflict, Forbidden, Invalid
from partner_club.ledger import services as ledger
from partner_club.ledger.credits import CreditKind, Source, credit
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region, Territory
from partner_club.settings_store import get_setting
from partner_club.signals import (
    HOLD,
    REJECT,
    Assessment,
    Reason,
    RegistrationAttempt,
    Shop,
    assess_registration,
    registration_recorded,
    registration_reviewed,
)
from partner_club.throttle import AttemptCounter

__all__ = [
    "AlreadyRegistered",
    "CodeRejected",
    "RegistrationContext",
    "RegistrationResult",
    "Rejected",
    "register_code",
]

CAUSE = "registration"
THROTTLE_SCOPE = "code"
# The same person sending the same code again within this time gets the first
# answer back (a retried request, a double tap), not a refusal.
IDEMPOTENCY_WINDOW = timedelta(minutes=10)


class AlreadyRegistered(Conflict):
    code = "already_registered"


class Rejected(Invalid):
    code = "fraud_rejected"


def current_scheme() -> CodeScheme:
    return scheme_from_setting(current_app.config["CODE_KEYS"])


def code_url(code: str) -> str:
    return f"{current_app.config['PUBLIC_URL']}/c/{code}"


def batch_code(batch: Batch, serial: int) -> str:
    return current_scheme().encode(batch.number, serial, batch.key_version)


# --- registration -------------------------------------------------------------

REVIEW_SLA_KEY = "fraud.review_sla_hours"  # fraud escalates what waits longer
DEFAULT_REVIEW_SLA_HOURS = 48.0


def review_sla_hours(session: Session) -> float:
    """Hours within which a held registration is answered (the club's promise; escalated after)."""
    try:
        return max(1.0, float(get_setting(session, REVIEW_SLA_KEY, DEFAULT_REVIEW_SLA_HOURS)))
    except (TypeError, ValueError):
        return DEFAULT_REVIEW_SLA_HOURS


def held_message(session: Session) -> str:
    """What a participant whose registration is held reads, in their language."""
    return _(
        "The code is registered and your points are being checked. They become available once a "
        "reviewer has looked at it; expect an answer within %(hours)d hours.",
        hours=int(review_sla_hours(session)),
    )


@dataclass(frozen=True)
class RegistrationContext:
    ip: str | None = None
    device: str | None = None
    lat: float | None = None
    lon: float | None = None
    at: datetime | None = None
    scanned_at: datetime | None = None  # when the phone read the code, if it says (fraud reads it)


@dataclass(frozen=True)
class RegistrationResult:
    status: str
    points: int
    product: dict[str, str]
    registration_id: int
    created: bool = True  # False: the same person's earlier answer, returned again
    registered_at: datetime | None = None
    breakdown: list[Source] | None = None  # where the points came from (a new registration's)

    def as_json(self) -> dict[str, Any]:
        answer = {
            "status": self.status,
            "points": self.points,
            "product": self.product,
            "registration_id": self.registration_id,
        }
        if self.breakdown is not None:
            answer["breakdown"] = self.breakdown
        return answer


@dataclass(frozen=True, slots=True)
class CodeProduct:
    id: int
    sku: str
    name: str
    volume_m3: float | None
    points: int  # per package, by the product's rule
    kind: str = ""  # what campaigns' product audiences match on
    package: str = ""


@dataclass(frozen=True, slots=True)
class CodeBatch:
    """What registering a code needs of its batch and product, read as plain columns."""

    id: int
    number: int
    key_version: int
    count: int
    status: str
    is_canary: bool
    region_id: int | None
    product: CodeProduct

    @classmethod
    def of(cls, batch: Batch) -> CodeBatch:
        product = batch.product
        return cls(
            batch.id,
            batch.number,
            batch.key_version,
            batch.count,
            batch.status,
            batch.is_canary,
            batch.region_id,
            CodeProduct(
                product.id,
                product.sku,
                product.name,
                product.volume_m3,
                product.points,
                product.kind,
                product.package,
            ),
        )


@dataclass(frozen=True)
class Found:
    code: str
    batch: CodeBatch
    serial: int
    voided: bool = False  # the serial is in a voided range of the batch
    earlier_id: int | None = None  # the registration of this code, if there is one
    shop: Shop | None = None  # the registering person's shop, when asked for


def register_code(
    session: Session, participant: User, raw: str, *, channel: str, ctx: RegistrationContext
) -> RegistrationResult:
    """Registers one typed, scanned or linked code for a shop owner or seller.

    On `CodeRejected` the only writes are the invalid-attempt counter and fraud's record of
    the refusal, which must survive: the caller commits after the refusal (see
    `codes.web.commit_refusal`).
    """
    at = ctx.at or utcnow()
    found = _locate(session, participant, raw, channel=channel, ctx=ctx, at=at)
    if found.earlier_id is not None:
        return _answer_again(session.get_one(Registration, found.earlier_id), participant, at)

    attempt = _attempt(session, participant, found, channel, ctx, at)
    assessment = _assess(attempt, found)
    if assessment.decision == REJECT:
        raise Rejected(_("This registration was refused by the club's checks."))
    status = (
        RegistrationStatus.PENDING_REVIEW if assessment.decision == HOLD else RegistrationStatus.ACCEPTED
    ).value
    breakdown = registration_breakdown(found.batch.product, at)
    registration_id = _store(
        session, participant, found, attempt, assessment, breakdown, status=status, ctx=ctx
    )
    if registration_id is None:  # a parallel request stored the same code first
        return _answer_again(_registration_of(session, found), participant, at)
    product = found.batch.product
    return RegistrationResult(
        status=status,
        points=attempt.points,
        product={"sku": product.sku, "name": product.name},
        registration_id=registration_id,
        created=True,
        registered_at=at,
        breakdown=breakdown,
    )


def _store(
    session: Session,
    participant: User,
    found: Found,
    attempt: RegistrationAttempt,
    assessment: Assessment | None,
    breakdown: list[Source],
    *,
    status: str,
    ctx: RegistrationContext,
) -> int | None:
    """Adds the running campaigns' points, inserts the registration with them, records the
    campaigns' awards, credits the points, announces it; its id, or None if the code was taken
    by a parallel request first.

    INSERT ... ON CONFLICT (batch, serial) DO NOTHING RETURNING id: the unique constraint decides
    between parallel requests in one statement, and the loser's transaction stays usable to
    answer who registered first (no savepoint, which pysqlite cannot nest in a transaction it
    has not begun).
    """
    campaigns = _campaigns(session, participant, found, attempt)
    if campaigns.items:
        breakdown.extend(campaigns.items)
        attempt.points += sum(item["points"] for item in campaigns.items)
    connection = session.connection()  # Core statements: no ORM objects on the hot path
    registration_id = connection.execute(
        _insert_statement(connection.dialect.name),
        {
            "batch_id": found.batch.id,
            "serial": found.serial,
            "participant_id": participant.id,
            "outlet_id": participant.outlet_id,
            "product_id": found.batch.product.id,
            "channel": attempt.channel,
            "status": status,
            "points": attempt.points,
            "created_at": attempt.at,
            "ip": ctx.ip,
            "device": (ctx.device or "")[:300] or None,
            "lat": ctx.lat,
            "lon": ctx.lon,
        },
    ).scalar()
    if registration_id is None:
        return None
    campaigns.record(session, registration_id)
    credited = []
    if attempt.points > 0:
        held = status == RegistrationStatus.PENDING_REVIEW.value
        credited = credit(
            session,
            participant,
            attempt.points,
            cause_type=CAUSE,
            cause_id=registration_id,
            kind=CreditKind.HOLD if held else CreditKind.ACCRUAL,
            breakdown=breakdown,
            by_shop_rule=True,
            at=attempt.at,
        )
    if status == RegistrationStatus.ACCEPTED.value:
        _referral(session, participant.outlet_id)
    registration_recorded.send(
        attempt, registration_id=registration_id, assessment=assessment, credits=credited
    )
    return registration_id


def store_registration(
    session: Session, participant: User, batch: Batch, serial: int, *, channel: str, ctx: RegistrationContext
) -> Registration:
    """Stores a known-good registration without the fraud assessment: demo data and imports of
    history. Points, the ledger and `registration_recorded` (with no assessment) behave as in
    `register_code`."""
    at = ctx.at or utcnow()
    found = Found(batch_code(batch, serial), CodeBatch.of(batch), serial)
    attempt = _attempt(session, participant, found, channel, ctx, at)
    breakdown = registration_breakdown(found.batch.product, at)
    registration_id = _store(
        session,
        participant,
        found,
        attempt,
        None,
        breakdown,
        status=RegistrationStatus.ACCEPTED.value,
        ctx=ctx,
    )
    if registration_id is None:
        raise AlreadyRegistered(_("This code is already registered."))
    return session.get_one(Registration, registration_id)


def _locate(
    session: Session, participant: User, raw: str, *, channel: str, ctx: RegistrationContext, at: datetime
) -> Found:
    """The valid, earning code behind the input; invalid attempts are counted and told to fraud."""
    if not participant.is_participant:
        raise Forbidden(_("Only shop owners and sellers register codes."))
    if participant.is_pending:
        raise Forbidden(
            _("Your shop's owner has not approved you yet: codes can be registered once they do."),
            code="awaiting_approval",
        )
    if participant.is_blocked:
        raise Forbidden(_("Your account is blocked: codes cannot be registered."), code="blocked")
    counted = throttle.subjects(participant.id, ctx.ip)
    try:
        # The lookup brings the throttle's counters too, so the check below reads nothing more;
        # a stopped person hears about the throttle, never about the code.
        found = find_code(
            session, raw, outlet_id=participant.outlet_id, throttled=[subject for _kind, subject in counted]
        )
        throttle.check(session, THROTTLE_SCOPE, counted, now=at)
        _check_batch(found)
    except CodeRejected as refusal:
        throttle.check(session, THROTTLE_SCOPE, counted, now=at)
        throttle.record_failure(session, THROTTLE_SCOPE, counted, now=at)
        _tell_fraud_of_refusal(session, participant, refusal.code, channel=channel, ctx=ctx, at=at)
        raise
    return found


def _tell_fraud_of_refusal(
    session: Session, participant: User, failure: str, *, channel: str, ctx: RegistrationContext, at: datetime
) -> None:
    """A refused code is an attempt the fraud checks keep (their guessing rules count them); the
    refusal stands whatever they answer."""
    region_id, territory_id = _place_of(session, participant)
    assess_registration(
        RegistrationAttempt(
            session=session,
            at=at,
            participant_id=participant.id,
            outlet_id=participant.outlet_id,
            region_id=region_id,
            territory_id=territory_id,
            channel=channel,
            ip=ctx.ip,
            device=ctx.device,
            lat=ctx.lat,
            lon=ctx.lon,
            failure=failure,
            scanned_at=ctx.scanned_at,
        )
    )


@dataclass(frozen=True)
class Preview:
    code: str
    product: CodeProduct
    points: int


def preview_code(
    session: Session,
    participant: User,
    raw: str,
    *,
    ip: str | None = None,
    device: str | None = None,
    at: datetime | None = None,
) -> Preview:
    """What registering a code would give, for the one-tap confirmation of a deep link.

    Counts invalid attempts like `register_code` (a preview must not be a
    free oracle for guessing); already registered codes raise AlreadyRegistered.
    """
    at = at or utcnow()
    found = _locate(
        session, participant, raw, channel="link", ctx=RegistrationContext(ip=ip, device=device), at=at
    )
    if found.earlier_id is not None:
        earlier = session.get_one(Registration, found.earlier_id)
        if earlier.participant_id != participant.id:
            raise AlreadyRegistered(_("This code is already registered by another participant."))
        raise AlreadyRegistered(
            _(
                "This code was registered by you on %(date)s.",
                date=format_datetime(earlier.created_at, "short"),
            )
        )
    product = found.batch.product
    return Preview(
        code=found.code,
        product=product,
        points=sum(line["points"] for line in registration_breakdown(product, at)),
    )


@functools.cache
def _insert_statement(dialect: str) -> Insert:
    """INSERT INTO registrations ... ON CONFLICT (batch_id, serial) DO NOTHING RETURNING id."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = Registration.__table__
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.batch_id, table.c.serial])
        .returning(table.c.id)
    )


# Serials are INTEGER columns; a reading past them (every key version but the code's own gives
# one) can name no issued code, and PostgreSQL would refuse the parameter.
_LARGEST_SERIAL = 2**31 - 1


def find_code(
    session: Session, raw: str, *, outlet_id: int | None = None, throttled: list[str] | None = None
) -> Found:
    """The issued code behind the input: the first reading that decrypts to a known batch.

    One query brings the batch with its product, whether the serial is voided and the id of an
    earlier registration of the code, which every registration asks, and with them the
    registering person's shop (`outlet_id`) and the throttle's counters of the `throttled`
    subjects (kept for `throttle.check` in this transaction): a row per counter found, at least
    one. Plain columns, no ORM objects: every registration runs it.
    """
    reading = read(raw or "", current_app.config.get("PUBLIC_URL"))
    scheme = current_scheme()
    subjects = (throttled or []) + [None, None]
    connection = session.connection()
    for candidate in reading.candidates:
        for decoded in scheme.decode(candidate):
            if decoded.serial > _LARGEST_SERIAL:  # another key version's reading: no such code
                continue
            rows = connection.execute(
                _lookup_statement(),
                {
                    "number": decoded.batch,
                    "key_version": decoded.key_version,
                    # A serial past any batch's count (the scheme has 36 bits, a count fits 31)
                    # looks up serial 0, which nothing has; `_check_batch` then refuses it.
                    "serial": decoded.serial if decoded.serial <= MAX_COUNT else 0,
                    "outlet_id": outlet_id,
                    "scope": THROTTLE_SCOPE,
                    "first_subject": subjects[0],
                    "second_subject": subjects[1],
                },
            ).all()
            if not rows:
                continue
            row = rows[0]
            settings_store.as_of_version(session, row.settings_version)
            if throttled:
                throttle.remember(
                    session,
                    THROTTLE_SCOPE,
                    throttled,
                    [
                        throttle.CounterReading(
                            *(getattr(r, f"counter_{c.key}") for c in throttle.READ_COLUMNS)
                        )
                        for r in rows
                        if r.counter_subject is not None
                    ],
                )
            product = CodeProduct(
                row.product_id,
                row.sku,
                row.product_name,
                row.volume_m3,
                package_points(row.rule_kind, row.rule_value, row.volume_m3),
                row.product_kind,
                row.product_package,
            )
            batch = CodeBatch(
                row.batch_id,
                row.batch_number,
                row.key_version,
                row.batch_count,
                row.batch_status,
                row.is_canary,
                row.batch_region_id,
                product,
            )
            shop = (
                Shop(
                    row.shop_id,
                    row.shop_region_id,
                    row.shop_territory_id,
                    row.shop_kind,
                    row.shop_lat,
                    row.shop_lon,
                )
                if row.shop_id is not None
                else None
            )
            return Found(
                candidate,
                batch,
                decoded.serial,
                voided=bool(row.voided),
                earlier_id=row.earlier_id,
                shop=shop,
            )
    raise CodeRejected(_("This code is not a Partner Club code. Please check it."), code="unknown_batch")


MAX_COUNT = 2**31 - 1  # batches.count is an INTEGER column


@functools.cache
def _lookup_statement():
    serial = bindparam("serial", type_=Integer)
    voided = exists().where(
        VoidedRange.batch_id == Batch.id, VoidedRange.from_serial <= serial, VoidedRange.to_serial >= serial
    )
    counters = [column.label(f"counter_{column.key}") for column in throttle.READ_COLUMNS]
    return (
        select(
            Batch.id.label("batch_id"),
            Batch.number.label("batch_number"),
            Batch.key_version,
            Batch.count.label("batch_count"),
            Batch.status.label("batch_status"),
            Batch.is_canary,
            Batch.region_id.label("batch_region_id"),
            Product.id.label("product_id"),
            Product.sku,
            Product.name.label("product_name"),
            Product.volume_m3,
            Product.rule_kind,
            Product.rule_value,
            Product.kind.label("product_kind"),
            Product.package.label("product_package"),
            Registration.id.label("earlier_id"),
            Outlet.id.label("shop_id"),
            Outlet.region_id.label("shop_region_id"),
            Outlet.territory_id.label("shop_territory_id"),
            Outlet.kind.label("shop_kind"),
            Outlet.lat.label("shop_lat"),
            Outlet.lon.label("shop_lon"),
            *counters,
            voided.label("voided"),
            settings_store.version_column(),  # the transaction's settings check, answered here
        )
        .join_from(Batch, Product, Product.id == Batch.product_id)
        .outerjoin(Registration, and_(Registration.batch_id == Batch.id, Registration.serial == serial))
        .outerjoin(Outlet, Outlet.id == bindparam("outlet_id", type_=Integer))
        .outerjoin(
            AttemptCounter,
            and_(
                AttemptCounter.scope == bindparam("scope", type_=String),
                AttemptCounter.subject.in_(
                    [bindparam("first_subject", type_=String), bindparam("second_subject", type_=String)]
                ),
            ),
        )
        .where(Batch.number == bindparam("number"), Batch.key_version == bindparam("key_version"))
    )


def _check_batch(found: Found) -> None:
    batch, serial = found.batch, found.serial
    if not 1 <= serial <= batch.count:
        raise CodeRejected(
            _("This code is not a Partner Club code. Please check it."), code="serial_out_of_range"
        )
    if batch.status == BatchStatus.VOIDED.value:
        raise CodeRejected(_("This code has been withdrawn and earns no points."), code="batch_voided")
    if found.voided:
        raise CodeRejected(_("This code has been withdrawn and earns no points."), code="batch_voided")
    if batch.status != BatchStatus.ACTIVATED.value and not batch.is_canary:
        raise CodeRejected(
            _("This code is not active yet: its goods have not been shipped."), code="batch_not_active"
        )


def _registration_of(session: Session, found: Found) -> Registration:
    """The registration a parallel request stored first (its conflict proves it exists)."""
    return session.scalars(
        select(Registration).where(
            Registration.batch_id == found.batch.id, Registration.serial == found.serial
        )
    ).one()


def _answer_again(earlier: Registration, participant: User, at: datetime) -> RegistrationResult:
    if earlier.participant_id != participant.id:
        raise AlreadyRegistered(_("This code is already registered by another participant."))
    if at - earlier.created_at <= IDEMPOTENCY_WINDOW and earlier.status != RegistrationStatus.REJECTED.value:
        return _result(earlier, created=False)
    raise AlreadyRegistered(
        _("This code was registered by you on %(date)s.", date=format_datetime(earlier.created_at, "short"))
    )


def _result(
    registration: Registration, product: Product | None = None, *, created: bool
) -> RegistrationResult:
    product = product or registration.product
    return RegistrationResult(
        status=registration.status,
        points=registration.points,
        product={"sku": product.sku, "name": product.name},
        registration_id=registration.id,
        created=created,
        registered_at=registration.created_at,
    )


def _attempt(
    session: Session, participant: User, found: Found, channel: str, ctx: RegistrationContext, at: datetime
) -> RegistrationAttempt:
    shop = found.shop if found.shop is not None and found.shop.id == participant.outlet_id else None
    region_id, territory_id = _place_of(session, participant, shop)
    batch, product = found.batch, found.batch.product
    return RegistrationAttempt(
        session=session,
        at=at,
        participant_id=participant.id,
        outlet_id=participant.outlet_id,
        region_id=region_id,
        territory_id=territory_id,
        channel=channel,
        ip=ctx.ip,
        device=ctx.device,
        lat=ctx.lat,
        lon=ctx.lon,
        code=found.code,
        batch_id=batch.id,
        batch_number=batch.number,
        serial=found.serial,
        batch_status=batch.status,
        batch_region_id=batch.region_id,
        is_canary=batch.is_canary,
        product_id=product.id,
        product_sku=product.sku,
        volume_m3=product.volume_m3,
        points=sum(line["points"] for line in registration_breakdown(product, at)),
        shop=shop,
        scanned_at=ctx.scanned_at,
    )


def _place_of(session: Session, participant: User, shop: Shop | None = None) -> tuple[int | None, int | None]:
    """(region id, territory id) of the participant's shop, or of their territory; one query
    unless the shop came with the code's lookup."""
    if participant.outlet_id is not None:
        outlet = shop or participant.outlet
        row = (outlet.region_id, outlet.territory_id) if outlet else None
    elif participant.territory_id is not None:
        row = session.execute(
            select(Territory.region_id, Territory.id).where(Territory.id == participant.territory_id)
        ).first()
    else:
        row = None
    return (row[0], row[1]) if row else (None, None)


def _campaigns(session: Session, participant: User, found: Found, attempt: RegistrationAttempt) -> Awards:
    """What the running campaigns give this registration (recorded once it is stored); nothing,
    and no query, while no campaign runs."""
    product = found.batch.product
    region_iso = _region_iso(session, attempt.region_id)
    return evaluate_campaigns(
        session,
        base_points=product.points,
        sku=product.sku,
        product_kind=product.kind,
        package=product.package,
        region_iso=region_iso,
        territory_id=attempt.territory_id,
        shop_id=attempt.outlet_id,
        shop_kind=attempt.shop.kind if attempt.shop else None,
        person_id=participant.id,
        role=participant.role.value if hasattr(participant.role, "value") else str(participant.role),
        at=attempt.at,
        locale=getattr(participant, "locale", None),
    )


def _products_matching(session: Session, data: CampaignData) -> int:
    """How many products a campaign's SKUs, kinds and packages name together (its validation)."""
    query = select(func.count(Product.id))
    if data.skus:
        query = query.where(Product.sku.in_(data.skus))
    if data.product_kinds:
        query = query.where(Product.kind.in_(data.product_kinds))
    if data.packages:
        query = query.where(Product.package.in_(data.packages))
    return session.scalar(query) or 0


provide_product_count(_products_matching)


def _product_names(session: Session, skus: list[str]) -> dict[str, str]:
    """Products' names by SKU (a campaign's card says what is left of each)."""
    return dict(session.execute(select(Product.sku, Product.name).where(Product.sku.in_(skus))).all())


provide_product_names(_product_names)


_REGION_ISO: dict[int, str] = {}  # region ids never change their ISO code


def _region_iso(session: Session, region_id: int | None) -> str | None:
    if region_id is None:
        return None
    if region_id not in _REGION_ISO:
        iso = session.scalar(select(Region.iso_code).where(Region.id == region_id))
        if iso is None:
            return None
        _REGION_ISO[region_id] = iso
    return _REGION_ISO[region_id]


def registration_breakdown(product: Product | CodeProduct, at: datetime) -> list[Source]:
    """Where one package's points come from: the product's base points now; campaigns add
    their lines here (`source: campaign`), welcome and referral points theirs."""
    return [Source(source="base", points=product.points)] if product.points > 0 else []


def _assess(attempt: RegistrationAttempt, found: Found) -> Assessment:
    assessment = assess_registration(attempt)
    if found.batch.is_canary and assessment.decision not in (HOLD, REJECT):
        # A canary code was never printed: whoever has it saw a leaked list.
        assessment.decision = HOLD
        assessment.reasons.append(
            Reason(
                "canary",
                1.0,
                "A canary code (never printed) was registered.",
                {"batch": found.batch.number, "serial": found.serial},
            )
        )
    return assessment


def review_registration(
    session: Session, registration_id: int, *, decision: str, reviewer: User | None, note: str = ""
) -> Registration:
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
    if not accepted:
        release_awards(session, registration.id)  # budgets and caps get back what it took
    session.flush()
    if accepted:
        _referral(session, registration.outlet_id)
    return registration


def _referral(session: Session, outlet_id: int | None) -> None:
    """The referral bonus of the owner who brought the shop in, at its N-th accepted registration."""

    def accepted() -> int:  # built only when a referral is due: most registrations never count
        counted = select(func.count()).where(
            Registration.outlet_id == outlet_id, Registration.status == RegistrationStatus.ACCEPTED.value
        )
        return session.scalar(counted) or 0

    pay_referral(session, outlet_id, accepted)


def _on_reviewed(
    registration_id: int,
    *,
    session: Session,
    decision: str,
    reviewer: User | None = None,
    note: str = "",
    **_extra: Any,
) -> Registration:
    return review_registration(session, registration_id, decision=decision, reviewer=reviewer, note=note)


registration_reviewed.connect(_on_reviewed)
