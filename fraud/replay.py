"""Replaying historical registrations through the detectors, fast.

Events stream from a JSON-lines file in chunks; shops come from the
database (`outlets import`), people are created on first sight as sellers of
the event's shop (one bulk insert per chunk), codes are decoded with the
codes scheme against the batch table loaded once, and the detectors run over
a `MemoryHistory`, each event's own time taken as "now". A bounded heap
puts slightly shuffled events back in time order.

Bad lines are never skipped silently: each is reported with its line number
and what is wrong; the good lines are replayed all the same.
"""

from __future__ import annotations

import heapq
import json
import math
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from codes.history_import import sellers_by_login
from codes.models import Batch, BatchStatus, Registration, VoidedRange
from codes.normalize import CodeRejected, read
from codes.scheme import ALPHABET, CODE_LENGTH, DATA_SYMBOLS, VALUE, CodeScheme, is_well_formed, unpack
from fraud.history import MemoryHistory, Observation
from fraud.models import CaseStatus, Decision, FraudObservation, ReviewCase
from fraud.neighbours import neighbour_pairs
from fraud.services import Engine, FraudConfig, reasons_json
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region

CHANNELS = ("typed", "qr", "link", "scan", "photo", "api")
CHUNK = 10000
_ALPHABET = frozenset(ALPHABET)


class LineError(ValueError):
    pass


@dataclass(slots=True)
class Event:
    line: int
    id: Any
    ts: float
    participant: str
    outlet: str
    code: str
    channel: str
    ip: str | None
    device: str | None
    lat: float | None
    lon: float | None


@dataclass
class BadLine:
    line: int
    problem: str


@dataclass
class ReplayReport:
    events: int = 0
    decisions: Counter = field(default_factory=Counter)
    bad: list[BadLine] = field(default_factory=list)
    people_created: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def _text(value: Any, name: str, *, required: bool = True, limit: int = 200) -> str | None:
    if value is None or value == "":
        if required:
            raise LineError(f"'{name}' is missing")
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise LineError(f"'{name}' must be a string")
    text = str(value).strip()
    if len(text) > limit:
        raise LineError(f"'{name}' is longer than {limit} characters")
    return text


def _coordinate(value: Any, name: str, bound: float) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not -bound <= value <= bound
        or math.isnan(value)
    ):
        raise LineError(f"'{name}' must be a number between -{bound:g} and {bound:g}")
    return float(value)


def parse_event(number: int, text: str) -> Event:
    """One input line as an Event, or LineError saying what is wrong."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise LineError(f"not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(data, dict):
        raise LineError("not a JSON object")
    if data.get("id") is None:
        raise LineError("'id' is missing")
    raw_ts = data.get("ts")
    if not isinstance(raw_ts, str):
        raise LineError("'ts' is missing or not an ISO 8601 string")
    try:
        at = datetime.fromisoformat(raw_ts)
    except ValueError:
        raise LineError(f"'ts' is not an ISO 8601 time: {raw_ts!r}") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)  # documented: times without an offset are UTC
    channel = data.get("channel")
    if channel not in CHANNELS:
        raise LineError(f"'channel' must be one of {', '.join(CHANNELS[:3])}, not {channel!r}")
    lat, lon = _coordinate(data.get("lat"), "lat", 90), _coordinate(data.get("lon"), "lon", 180)
    if (lat is None) != (lon is None):
        raise LineError("'lat' and 'lon' come together")
    return Event(
        number,
        data["id"],
        at.timestamp(),
        _text(data.get("participant"), "participant", limit=200),
        _text(data.get("outlet"), "outlet", limit=64),
        _text(data.get("code"), "code", limit=300),
        channel,
        _text(data.get("ip"), "ip", required=False, limit=64),
        _text(data.get("device"), "device", required=False, limit=128),
        lat,
        lon,
    )


@dataclass(slots=True)
class BatchFacts:
    id: int
    number: int
    count: int
    region_id: int | None
    status: str
    activated_ts: float | None
    is_canary: bool
    voided: list[tuple[int, int]]


class Catalogue:
    """The database facts replay needs: shops, regions, batches, people; loaded once."""

    def __init__(self, session: Session, scheme: CodeScheme, public_url: str | None) -> None:
        self.session, self.scheme, self.public_url = session, scheme, public_url
        self.outlets = {
            ext: row
            for ext, *row in session.execute(
                select(
                    Outlet.external_id, Outlet.id, Outlet.kind, Outlet.lat, Outlet.lon, Outlet.region_id
                ).where(Outlet.external_id.is_not(None))
            )
        }
        self.region_names = {
            i: (en, ru) for i, en, ru in session.execute(select(Region.id, Region.name_en, Region.name_ru))
        }
        voided: dict[int, list[tuple[int, int]]] = {}
        for batch_id, low, high in session.execute(
            select(VoidedRange.batch_id, VoidedRange.from_serial, VoidedRange.to_serial)
        ):
            voided.setdefault(batch_id, []).append((low, high))
        self.batches = {
            (b.number, b.key_version): BatchFacts(
                b.id,
                b.number,
                b.count,
                b.region_id,
                b.status,
                b.activated_at.timestamp() if b.activated_at else None,
                b.is_canary,
                voided.get(b.id, []),
            )
            for b in session.scalars(select(Batch))
        }
        self.versions = sorted(scheme.keys, reverse=True)
        self.people: dict[str, int] = {}
        self._password = generate_password_hash(secrets.token_urlsafe(24))

    def decode(self, raw: str) -> tuple[str | None, BatchFacts | None, int | None, str | None]:
        """(failure, batch, serial, code): failure is the refusal reason when the code is not valid."""
        if len(raw) == CODE_LENGTH and _ALPHABET.issuperset(raw) and is_well_formed(raw):
            candidates = [raw]  # the common case: a clean code, checked once
        else:
            try:
                candidates = read(raw, self.public_url).candidates
            except CodeRejected as refusal:
                return refusal.code, None, None, None
        for candidate in candidates:
            value = 0
            for symbol in candidate[:DATA_SYMBOLS]:
                value = (value << 5) | VALUE[symbol]
            for version in self.versions:
                number, serial = unpack(self.scheme.decrypt(version, value))
                batch = self.batches.get((number, version))
                if batch is None:
                    continue
                if not 1 <= serial <= batch.count:
                    return "serial_out_of_range", None, None, candidate
                if batch.status == BatchStatus.VOIDED.value or any(a <= serial <= b for a, b in batch.voided):
                    return "batch_voided", None, None, candidate
                return None, batch, serial, candidate
        return "unknown_batch", None, None, candidates[0]

    def resolve_people(self, events: list[Event]) -> int:
        """Ids of the events' participants; unknown ones become sellers of their first shop."""
        wanted: dict[str, int] = {}
        for event in events:
            if event.participant not in self.people and event.participant not in wanted:
                wanted[event.participant] = self.outlets[event.outlet][0]
        return sellers_by_login(self.session, wanted, self.people, self._password)


def replay(
    session: Session,
    lines: Iterable[str],
    out: TextIO,
    *,
    scheme: CodeScheme,
    config: FraudConfig,
    public_url: str | None = None,
    record: bool = False,
    reorder: int = 50000,
    progress: Callable[[int], None] | None = None,
) -> ReplayReport:
    """Replays every good line, writes one decision a line, and reports every bad line."""
    started = time.perf_counter()
    report = ReplayReport()
    catalogue = Catalogue(session, scheme, public_url)
    history = MemoryHistory()
    history.neighbours = neighbour_pairs(session)
    engine = Engine(config, history)
    loaded_batches: set[int] = set()
    pending_rows: list[dict[str, Any]] = []
    heap: list[tuple[float, int, Event]] = []
    last_ts = -math.inf

    def decide(event: Event) -> None:
        nonlocal last_ts
        if event.ts < last_ts:
            report.bad.append(BadLine(event.line, f"out of time order by more than {reorder} lines"))
            return
        last_ts = event.ts
        outlet_id, kind, o_lat, o_lon, region_id = catalogue.outlets[event.outlet]
        failure, batch, serial, code = catalogue.decode(event.code)
        obs = Observation(
            ts=event.ts,
            participant_id=catalogue.people[event.participant],
            outlet_id=outlet_id,
            outlet_kind=kind,
            outlet_lat=o_lat,
            outlet_lon=o_lon,
            region_id=region_id,
            region_name=catalogue.region_names.get(region_id),
            channel=event.channel,
            ip=event.ip,
            device=event.device,
            lat=event.lat,
            lon=event.lon,
            code=code,
            failure=failure,
        )
        if batch is not None:
            if batch.id not in loaded_batches:
                loaded_batches.add(batch.id)
                history.registered.update(
                    (batch.id, s)
                    for s in session.scalars(
                        select(Registration.serial).where(Registration.batch_id == batch.id)
                    )
                )
            obs.batch_id, obs.batch_number, obs.serial = batch.id, batch.number, serial
            obs.batch_region_id = batch.region_id
            obs.batch_region_name = catalogue.region_names.get(batch.region_id)
            obs.is_canary = batch.is_canary
            obs.batch_shipped = batch.status == BatchStatus.ACTIVATED.value and (
                batch.activated_ts is None or batch.activated_ts <= event.ts
            )
        assessment = engine.assess(obs)
        engine.observe(obs)
        reasons = reasons_json(assessment.reasons)
        out.write(
            json.dumps(
                {
                    "id": event.id,
                    "decision": assessment.decision,
                    "score": round(assessment.score, 1),
                    "reasons": reasons,
                },
                ensure_ascii=False,
                separators=(",", ":"),
            )
            + "\n"
        )
        report.events += 1
        report.decisions[assessment.decision] += 1
        if record:
            pending_rows.append(_row(obs, assessment.decision, assessment.score, reasons))
            if len(pending_rows) >= CHUNK:
                _store(session, pending_rows)
        if progress and report.events % 100000 == 0:
            progress(report.events)

    def take(chunk: list[Event]) -> None:
        report.people_created += catalogue.resolve_people(chunk)
        for event in chunk:
            heapq.heappush(heap, (event.ts, event.line, event))
            if len(heap) > reorder:
                decide(heapq.heappop(heap)[2])

    chunk: list[Event] = []
    for number, text in enumerate(lines, 1):
        try:
            event = parse_event(number, text)
            if event.outlet not in catalogue.outlets:
                raise LineError(f"unknown outlet {event.outlet!r} (load shops with `outlets import`)")
        except LineError as problem:
            report.bad.append(BadLine(number, str(problem)))
            continue
        chunk.append(event)
        if len(chunk) >= CHUNK:
            take(chunk)
            chunk = []
    take(chunk)
    while heap:
        decide(heapq.heappop(heap)[2])
    if pending_rows:
        _store(session, pending_rows)
    report.bad.sort(key=lambda b: b.line)
    report.seconds = time.perf_counter() - started
    return report


def _row(obs: Observation, decision: str, score: float, reasons: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "at": obs.at,
        "participant_id": obs.participant_id,
        "outlet_id": obs.outlet_id,
        "region_id": obs.region_id,
        "channel": obs.channel,
        "ip": obs.ip,
        "device": obs.device,
        "lat": obs.lat,
        "lon": obs.lon,
        "code": obs.code,
        "failure": obs.failure,
        "batch_id": obs.batch_id,
        "serial": obs.serial,
        "run_length": obs.run_length,
        "run_start": obs.run_start,
        "fast_streak": obs.fast_streak,
        "registration_id": None,
        "decision": decision,
        "score": score,
        "reasons": reasons or None,
    }


def _store(session: Session, rows: list[dict[str, Any]]) -> None:
    """Bulk-inserts replayed observations; held ones open review cases."""
    ids = (
        session.execute(
            insert(FraudObservation).returning(FraudObservation.id, sort_by_parameter_order=True), rows
        )
        .scalars()
        .all()
    )
    cases = [
        {
            "observation_id": i,
            "participant_id": r["participant_id"],
            "outlet_id": r["outlet_id"],
            "score": r["score"],
            "status": CaseStatus.OPEN.value,
            "action": "none",
            "created_at": r["at"],
        }
        for i, r in zip(ids, rows, strict=False)
        if r["decision"] == Decision.HOLD.value
    ]
    if cases:
        session.execute(insert(ReviewCase), cases)
    rows.clear()
