"""From QR payloads to answers: is it ours, and what did registering it do.

A photo may hold several packages, and each gets its own answer: one code
already registered must not cost the others theirs. So every code is
registered inside a savepoint of the caller's transaction (on PostgreSQL).
A refusal of the code itself (`CodeRejected`) keeps its only write, the
invalid-attempt counter, exactly as the typed form does; any other refusal
rolls back that code's work alone. The caller commits once for the whole
photo. Payloads that are not club links never reach `register_code`, so a
stray QR code on a shelf costs the seller no invalid attempt.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, SessionTransaction

from codes.normalize import CodeRejected
from codes.scan_models import BulkScanImage, ScanPhoto, scan_photo_registrations
from codes.services import AlreadyRegistered, RegistrationContext, Rejected, register_code
from codes.uploads import REVIEW_PHOTO_SIDE, without_metadata
from partner_club.accounts.models import User
from partner_club.errors import DomainError, TooManyAttempts

CHANNEL = "scan"  # live camera: one code a read
PHOTO_CHANNEL = "photo"  # several codes of one picture, registered together
# Codes in one photo that are looked at; a wall of labels is not a use case.
MAX_CODES_PER_PICTURE = 30
# A code that decrypts to no batch of ours, or outside one, is "not ours";
# the other refusals are "invalid" (typos, withdrawn or unshipped goods).
NOT_OURS_REASONS = frozenset({"unknown_batch", "serial_out_of_range", "not_a_club_link", "other_host"})


@dataclass
class ScanOutcome:
    """The answer for one payload found in a picture."""

    payload: str
    result: str  # club_code | accepted | pending_review | already_registered | not_ours | invalid | ...
    message: str
    code: str | None = None
    reason: str | None = None
    points: int = 0
    product: dict[str, str] | None = None
    registration_id: int | None = None
    repeat: bool = False  # the same person's earlier registration, answered again
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        body = {
            "payload": self.payload,
            "result": self.result,
            "message": self.message,
            "code": self.code,
            "reason": self.reason,
            "points": self.points,
            "product": self.product,
            "registration_id": self.registration_id,
            "repeat": self.repeat,
        }
        body.update(self.extra)
        return body


class NotClubCode(DomainError):
    status = 422
    code = "not_a_club_link"


def club_code_of(payload: str, public_url: str) -> str:
    """The code inside a club link `<PUBLIC_URL>/c/<code>`; NotClubCode otherwise.

    The scheme may differ (a label printed with http, a site moved to
    https); the host and the path prefix may not.
    """
    club = urlsplit(public_url)
    try:
        link = urlsplit(payload.strip())
        host = (link.hostname or "").lower()
        port = link.port
    except ValueError:
        raise NotClubCode(_("This QR code is not a Partner Club code.")) from None
    marker = club.path.rstrip("/") + "/c/"
    if link.scheme.lower() not in ("http", "https") or not host:
        raise NotClubCode(_("This QR code is not a Partner Club code."))
    if not _same_origin(host, port, link.scheme, club):
        raise NotClubCode(
            _("This QR code links to another site (%(host)s), not to Partner Club.", host=host),
            code="other_host",
        )
    if not link.path.startswith(marker):
        raise NotClubCode(_("This QR code is not a Partner Club code."))
    code = link.path[len(marker) :].strip("/")
    if not code or "/" in code:
        raise NotClubCode(_("This QR code is not a Partner Club code."))
    return code


def _same_origin(host: str, port: int | None, scheme: str, club: Any) -> bool:
    if host != (club.hostname or "").lower():
        return False
    if port is None and club.port is None:
        return True  # default ports: http and https both count
    return (port or _default_port(scheme)) == (club.port or _default_port(club.scheme))


def _default_port(scheme: str) -> int:
    return 443 if scheme.lower() == "https" else 80


def classify(payloads: Iterable[str], public_url: str) -> list[ScanOutcome]:
    """Decode-only answers: which payloads are club codes, without registering."""
    outcomes = []
    for payload in list(payloads)[:MAX_CODES_PER_PICTURE]:
        try:
            code = club_code_of(payload, public_url)
        except NotClubCode as refusal:
            outcomes.append(ScanOutcome(payload, "not_ours", refusal.message, reason=refusal.code))
            continue
        outcomes.append(
            ScanOutcome(payload, "club_code", _("Partner Club code %(code)s", code=code), code=code)
        )
    return outcomes


def register_payloads(
    session: Session,
    participant: User,
    payloads: Iterable[str],
    *,
    public_url: str,
    ctx: RegistrationContext,
    photo: bytes | None = None,
) -> list[ScanOutcome]:
    """Registers every club code among the payloads, each with its own answer.

    When a registration is held for review and the codes came from a photo,
    the photo is kept for the reviewer, stripped of its metadata.
    """
    outcomes = classify(payloads, public_url)
    blocked: TooManyAttempts | None = None
    for outcome in outcomes:
        if outcome.code is None:
            continue
        if blocked is not None:
            _refused(outcome, blocked)
            continue
        savepoint = _savepoint(session)
        try:
            result = register_code(
                session,
                participant,
                outcome.code,
                channel=CHANNEL if photo is None else PHOTO_CHANNEL,
                ctx=ctx,
            )
        except CodeRejected as refusal:
            _end(savepoint, keep=True)  # keeps the invalid-attempt counter, the only write
            _refused(outcome, refusal)
            continue
        except DomainError as refusal:
            _end(savepoint, keep=False)
            if isinstance(refusal, TooManyAttempts):
                blocked = refusal
            _refused(outcome, refusal)
            continue
        _end(savepoint, keep=True)
        outcome.result = result.status
        outcome.points = result.points
        outcome.product = result.product
        outcome.registration_id = result.registration_id
        outcome.repeat = not result.created
        outcome.message = _accepted_message(result.status, result.points, result.product)
    held = [
        o.registration_id
        for o in outcomes
        if o.result == "pending_review" and not o.repeat and o.registration_id is not None
    ]
    if photo is not None and held:
        keep_review_photo(session, participant, photo, held)
    return outcomes


def _savepoint(session: Session) -> SessionTransaction | None:
    """A savepoint per code on PostgreSQL.

    pysqlite cannot nest a savepoint in a transaction it has not begun (its
    RELEASE would commit), so on SQLite, the embedded single-writer default,
    codes run without one: every refusal of register_code happens before
    its writes except a fraud rejection, whose checks' own notes then stay.
    """
    return session.begin_nested() if session.get_bind().dialect.name == "postgresql" else None


def _end(savepoint: SessionTransaction | None, *, keep: bool) -> None:
    if savepoint is None:
        return
    if keep:
        savepoint.commit()
    else:
        savepoint.rollback()


def _refused(outcome: ScanOutcome, refusal: DomainError) -> None:
    outcome.reason = refusal.code
    outcome.message = refusal.message
    if isinstance(refusal, AlreadyRegistered):
        outcome.result = "already_registered"
    elif isinstance(refusal, TooManyAttempts):
        outcome.result = "too_many_attempts"
        outcome.extra["retry_after"] = refusal.retry_after
    elif isinstance(refusal, Rejected):
        outcome.result = "rejected"
    elif refusal.code in NOT_OURS_REASONS:
        outcome.result = "not_ours"
    else:
        outcome.result = "invalid"


def _accepted_message(status: str, points: int, product: dict[str, str]) -> str:
    if status == "pending_review":
        return _(
            "%(product)s: registered; %(points)d points are held until a check.",
            product=product.get("name", ""),
            points=points,
        )
    return _("%(product)s: registered, +%(points)d points.", product=product.get("name", ""), points=points)


def keep_review_photo(
    session: Session, participant: User, photo: bytes, registration_ids: list[int]
) -> ScanPhoto:
    """Stores the photo (re-encoded, no EXIF) beside the registrations held for review."""
    kept = ScanPhoto(uploaded_by_id=participant.id, data=without_metadata(photo, max_side=REVIEW_PHOTO_SIDE))
    session.add(kept)
    session.flush()
    if registration_ids:
        session.execute(
            insert(scan_photo_registrations),
            [{"photo_id": kept.id, "registration_id": rid} for rid in registration_ids],
        )
    return kept


def review_photos_of(session: Session, registration_id: int) -> list[ScanPhoto]:
    """The photos kept for a registration held for review (for the fraud reviewer)."""
    return list(
        session.scalars(
            select(ScanPhoto)
            .join(scan_photo_registrations, scan_photo_registrations.c.photo_id == ScanPhoto.id)
            .where(scan_photo_registrations.c.registration_id == registration_id)
            .order_by(ScanPhoto.id)
        )
    )


# --- bulk decoding -------------------------------------------------------------


def store_bulk_images(session: Session, uploader: User, files: list[tuple[str, bytes]]) -> list[int]:
    """Keeps a bulk upload's pictures until their job has decoded them."""
    rows = [
        BulkScanImage(uploaded_by_id=uploader.id, file_name=name[:200], data=data) for name, data in files
    ]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]
