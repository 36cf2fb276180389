"""Where the domain packages meet without importing each other.

`codes` describes each registration attempt as a `RegistrationAttempt` and
asks `assess_registration()` for a decision before any point moves; `fraud`
answers by connecting to `registration_checks`. A refused code (a typo, a
guess) is an attempt too, with its `failure` set: fraud hears of it the same
way, so its guessing rules see live traffic as `fraud replay` sees history.
Prize orders are asked about the same way through `assess_order`
(`order_checks`). Once a registration and its points are stored, `codes`
sends `registration_recorded` inside the same transaction, with everything a
receiver needs as arguments; each receiver writes its own rows. With no
receiver the attempt is simply accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from blinker import Namespace
from sqlalchemy.orm import Session

_signals = Namespace()

# sender: RegistrationAttempt; receivers return an Assessment (or None). A refused code's
# attempt (`failure` set) is sent too; its answer changes nothing but is kept by fraud.
registration_checks = _signals.signal("registration-checks")
# sender: RegistrationAttempt; kwargs registration_id (int), assessment (Assessment, the one the
# checks gave), credits (list of partner_club.ledger.credits.Credit). In the same transaction.
registration_recorded = _signals.signal("registration-recorded")
# sender: the session; kwargs count. Registrations of history stored in bulk (no attempt, no
# assessment, nobody to tell); receivers that keep their own rows from registrations, like
# the KPI rollups, note that there is more to fold.
registrations_imported = _signals.signal("registrations-imported")
# sender: the ordering person's id; kwargs session, address, phone. Receivers
# return an Assessment; catalog refuses on reject and flags the order on hold.
order_checks = _signals.signal("order-checks")
# sender: registration id; kwargs session, decision ("accept"|"reject"), reviewer, note.
# Sent by fraud's review queue; codes sets the status and moves the points.
registration_reviewed = _signals.signal("registration-reviewed")

ACCEPT, HOLD, REJECT = "accept", "hold", "reject"
_SEVERITY = {ACCEPT: 0, HOLD: 1, REJECT: 2}


@dataclass
class Reason:
    detector: str
    score: float
    message: str  # plain words a reviewer can read, already in the reviewer's terms
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class Assessment:
    decision: str = ACCEPT
    score: float = 0.0
    reasons: list[Reason] = field(default_factory=list)
    # What the checker saw and derived (fraud's Observation: the run of serials, the pace), handed
    # back to it with `registration_recorded` so that it stores what it judged.
    observation: Any = None


@dataclass(frozen=True, slots=True)
class Shop:
    """The registering person's shop as codes read it along with the code, so that receivers
    need not load it again."""

    id: int
    region_id: int | None
    territory_id: int | None
    kind: str | None
    lat: float | None
    lon: float | None


@dataclass
class RegistrationAttempt:
    session: Session
    at: datetime
    participant_id: int
    outlet_id: int | None
    region_id: int | None  # the shop's region (or the participant's territory's)
    territory_id: int | None
    channel: str  # typed | qr | link | scan | photo | api
    ip: str | None = None
    device: str | None = None
    lat: float | None = None  # position the device reported, if any
    lon: float | None = None
    code: str | None = None  # normalised code, when it decoded
    failure: str | None = None  # why the code was refused (a CodeRejected code), if it was
    batch_id: int | None = None
    batch_number: int | None = None
    serial: int | None = None
    batch_status: str | None = None
    batch_region_id: int | None = None
    is_canary: bool = False
    product_id: int | None = None
    product_sku: str | None = None
    volume_m3: float | None = None
    points: int = 0
    shop: Shop | None = None  # the shop of outlet_id, when the sender read it (None: look it up)
    scanned_at: datetime | None = None  # when the phone read the code (an offline queue sends it later)


def assess_registration(attempt: RegistrationAttempt) -> Assessment:
    """The strictest answer of every connected checker; accept with none."""
    return _strictest(registration_checks.send(attempt))


def assess_order(session: Session, user_id: int, *, address: str, phone: str) -> Assessment:
    """The strictest answer about a prize order's delivery; accept with none."""
    return _strictest(order_checks.send(user_id, session=session, address=address, phone=phone))


def _strictest(answers: list[tuple[Any, Any]]) -> Assessment:
    combined = Assessment()
    for _receiver, answer in answers:
        if not isinstance(answer, Assessment):
            continue
        combined.reasons.extend(answer.reasons)
        combined.score = max(combined.score, answer.score)
        combined.observation = combined.observation or answer.observation
        if _SEVERITY[answer.decision] > _SEVERITY[combined.decision]:
            combined.decision = answer.decision
    return combined
