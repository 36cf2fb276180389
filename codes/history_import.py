"""History from an earlier programme: shipped batches and past registrations.

`flask codes activate BATCH --at DATE` records when a batch shipped;
`flask registrations import EVENTS.jsonl [--fraud]` loads past registrations
in the fraud replay's event format (one JSON object a line: id, ts,
participant, outlet, code, channel, and optionally ip, device, lat, lon),
each with its own time. With `--fraud` each line goes through `register_code`
like a live one; without, a chunk is stored in bulk (`history_bulk`), unless a
running campaign's period meets it: then line by line through
`store_registration`, where campaigns add their points. People are created on first sight as sellers of the event's shop,
in bulk per chunk, as the replay does.

Bad lines are never skipped silently: each is named with its line number and
what is wrong; the good lines are imported all the same. The caller commits
after each chunk (`after_chunk`), so a million lines are not one transaction
and progress can be watched.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from codes import history_bulk, issuing, services
from codes.models import Batch, BatchStatus
from codes.normalize import CodeRejected
from partner_club.accounts.models import Role, User, UserStatus
from partner_club.audit.services import record
from partner_club.database import utcnow
from partner_club.errors import DomainError, Invalid
from partner_club.extensions import db
from partner_club.jobs.services import JobContext
from partner_club.outlets.models import Outlet

CHANNELS = ("typed", "qr", "link", "scan", "photo", "api")
CHUNK = 2000
QUEUE_ABOVE = 5000  # lines: a bigger file is imported by a job with progress
MAX_BAD_LINES_KEPT = 1000


class LineError(ValueError):
    pass


@dataclass(slots=True)
class Event:
    line: int
    at: datetime
    participant: str
    outlet: str
    code: str
    channel: str
    ip: str | None
    device: str | None
    lat: float | None
    lon: float | None


@dataclass
class HistoryReport:
    lines: int = 0
    registered: int = 0
    pending: int = 0
    duplicates: int = 0
    refused: Counter = field(default_factory=Counter)  # fraud's rejections, by reason code
    bad: list[tuple[int, str]] = field(default_factory=list)
    bad_count: int = 0
    people_created: int = 0
    seconds: float = 0.0

    def add_bad(self, line: int, problem: str) -> None:
        self.bad_count += 1
        if len(self.bad) < MAX_BAD_LINES_KEPT:
            self.bad.append((line, problem))

    def as_json(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "registered": self.registered,
            "pending": self.pending,
            "duplicates": self.duplicates,
            "refused": dict(self.refused),
            "bad": self.bad_count,
            "bad_lines": [f"{line}: {problem}" for line, problem in self.bad[:100]],
            "people_created": self.people_created,
            "seconds": round(self.seconds, 1),
        }


def activate_batch_at(
    session: Session, number: int, at: datetime | None, *, actor: User | None = None
) -> Batch:
    """Marks batch NUMBER shipped, at `at` (a date of the past) or now."""
    batch = issuing.batch_by_number(session, number)
    if at is not None and at > utcnow():
        raise Invalid(
            _("The shipping date %(date)s is in the future.", date=at.date().isoformat()), code="bad_date"
        )
    issuing.set_batch_status(session, batch, BatchStatus.ACTIVATED, actor=actor)
    if at is not None:
        batch.activated_at = at
        record(session, actor, "batch.shipped_at", batch, number=batch.number, at=at.isoformat())
        session.flush()
    return batch


# --- reading lines -------------------------------------------------------------


def _text(data: dict[str, Any], name: str, *, required: bool = True, limit: int = 200) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise LineError(_("'%(name)s' is missing", name=name))
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise LineError(_("'%(name)s' must be text", name=name))
    text = str(value).strip()
    if len(text) > limit or "\x00" in text:
        raise LineError(
            _("'%(name)s' is longer than %(limit)d characters or holds a NUL", name=name, limit=limit)
        )
    return text


def _coordinate(data: dict[str, Any], name: str, bound: float) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or abs(value) > bound
    ):
        raise LineError(_("'%(name)s' must be a number from -%(bound)d to %(bound)d", name=name, bound=bound))
    return float(value)


def parse_event(number: int, text: str) -> Event:
    """One line as an Event, or LineError saying what is wrong (the replay's format)."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise LineError(_("not valid JSON (%(error)s)", error=str(error))) from None
    if not isinstance(data, dict):
        raise LineError(_("not a JSON object"))
    raw_ts = data.get("ts")
    try:
        at = datetime.fromisoformat(raw_ts) if isinstance(raw_ts, str) else None
    except ValueError:
        at = None
    if at is None:
        raise LineError(_("'ts' is missing or not an ISO 8601 time"))
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)  # no offset: UTC
    if at > utcnow():
        raise LineError(_("'ts' %(ts)s is in the future", ts=raw_ts))
    channel = data.get("channel")
    if channel not in CHANNELS:
        raise LineError(_("'channel' must be one of %(channels)s", channels=", ".join(CHANNELS)))
    lat, lon = _coordinate(data, "lat", 90), _coordinate(data, "lon", 180)
    if (lat is None) != (lon is None):
        raise LineError(_("'lat' and 'lon' come together"))
    return Event(
        number,
        at,
        _text(data, "participant"),
        _text(data, "outlet", limit=64),
        _text(data, "code", limit=300),
        channel,
        _text(data, "ip", required=False, limit=64),
        _text(data, "device", required=False, limit=300),
        lat,
        lon,
    )


def read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of the non-blank lines; broken UTF-8 is named, not fatal."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                yield number, f"\x00bad-utf8:{error.start + 1}"
                continue
            if text.strip():
                yield number, text


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


# --- importing -------------------------------------------------------------------


class _People:
    """Participants by login; unknown ones become sellers of their first shop (bulk per chunk)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.outlets = dict(
            session.execute(
                select(Outlet.external_id, Outlet.id).where(Outlet.external_id.is_not(None))
            ).all()
        )
        self.ids: dict[str, int] = {}
        self._password = generate_password_hash(secrets.token_urlsafe(24))
        self.catalogue: history_bulk.Catalogue | None = None  # the batches, read once, in bulk

    def resolve(self, events: list[Event]) -> int:
        wanted = {e.participant: self.outlets[e.outlet] for e in events if e.participant not in self.ids}
        return sellers_by_login(self.session, wanted, self.ids, self._password)


def sellers_by_login(
    session: Session, wanted: dict[str, int], ids: dict[str, int], password_hash: str
) -> int:
    """Fills `ids` with the user id of each wanted login; a login the club does not know becomes
    an active seller of the shop `wanted` names (in bulk). Answers how many were created."""
    logins = list(wanted)
    for start in range(0, len(logins), 500):
        part = logins[start : start + 500]
        ids.update(session.execute(select(User.login, User.id).where(User.login.in_(part))).all())
    missing = [login for login in logins if login not in ids]
    if not missing:
        return 0
    now = utcnow()
    rows = [
        {
            "login": login[:200],
            "password_hash": password_hash,
            "role": Role.SELLER.value,
            "status": UserStatus.ACTIVE.value,
            "full_name": login[:200],
            "outlet_id": wanted[login],
            "token_version": 1,
            "created_at": now,
        }
        for login in missing
    ]
    created = session.execute(
        insert(User).returning(User.login, User.id, sort_by_parameter_order=True), rows
    ).all()
    ids.update(dict(created))
    return len(created)


def import_history(
    session: Session,
    lines: Iterable[tuple[int, str]],
    *,
    with_fraud: bool = False,
    after_chunk: Callable[[HistoryReport], None] | None = None,
    chunk: int = CHUNK,
) -> HistoryReport:
    """Loads past registrations; the caller commits in `after_chunk` (and at the end)."""
    started = time.perf_counter()
    report = HistoryReport()
    people = _People(session)
    batches: dict[int, Batch] = {}
    events: list[Event] = []
    for number, text in lines:
        report.lines += 1
        if text.startswith("\x00bad-utf8:"):
            report.add_bad(number, _("not UTF-8 text (byte %(pos)s)", pos=text.split(":", 1)[1]))
            continue
        try:
            event = parse_event(number, text)
        except LineError as error:
            report.add_bad(number, str(error))
            continue
        if event.outlet not in people.outlets:
            report.add_bad(number, _("no shop with external_id %(outlet)s", outlet=event.outlet))
            continue
        events.append(event)
        if len(events) >= chunk:
            _import_chunk(session, events, people, batches, with_fraud, report)
            events = []
            report.seconds = time.perf_counter() - started
            if after_chunk:
                after_chunk(report)
    if events:
        _import_chunk(session, events, people, batches, with_fraud, report)
    report.seconds = time.perf_counter() - started
    if after_chunk:
        after_chunk(report)
    return report


def _import_chunk(
    session: Session,
    events: list[Event],
    people: _People,
    batches: dict[int, Batch],
    with_fraud: bool,
    report: HistoryReport,
) -> None:
    events.sort(key=lambda e: e.at)  # each registration sees the history before it
    report.people_created += people.resolve(events)
    if not with_fraud and not history_bulk.campaigns_touch(session, events):
        if people.catalogue is None:
            people.catalogue = history_bulk.Catalogue(session)
        history_bulk.store_chunk(
            session, events, lambda event: people.ids[event.participant], people.catalogue, report
        )
        return
    for event in events:
        participant = session.get(User, people.ids[event.participant])
        ctx = services.RegistrationContext(
            ip=event.ip, device=event.device, lat=event.lat, lon=event.lon, at=event.at
        )
        try:
            if with_fraud:
                result = services.register_code(
                    session, participant, event.code, channel=event.channel, ctx=ctx
                )
                if not result.created:
                    report.duplicates += 1
                    report.add_bad(event.line, _("the code %(code)s is already registered", code=event.code))
                    continue
                report.pending += result.status == "pending_review"
            else:
                batch, serial = _shipped_code(session, participant, event, batches)
                services.store_registration(
                    session, participant, batch, serial, channel=event.channel, ctx=ctx
                )
        except services.Rejected as error:
            report.refused[error.code] += 1
            report.add_bad(event.line, _("refused by the fraud rules: %(why)s", why=error.message))
            continue
        except services.AlreadyRegistered:
            report.duplicates += 1
            report.add_bad(event.line, _("the code %(code)s is already registered", code=event.code))
            continue
        except DomainError as error:
            report.add_bad(event.line, f"{error.code}: {error.message}")
            continue
        report.registered += 1


def _shipped_code(
    session: Session, participant: User, event: Event, batches: dict[int, Batch]
) -> tuple[Batch, int]:
    """The batch and serial of a valid code whose batch had shipped by the event's time."""
    found = services.find_code(session, event.code, outlet_id=participant.outlet_id)
    if found.earlier_id is not None:
        raise services.AlreadyRegistered(_("This code is already registered."))
    batch = batches.get(found.batch.id) or session.get(Batch, found.batch.id)
    batches[batch.id] = batch
    if not 1 <= found.serial <= batch.count or found.voided or batch.status == BatchStatus.VOIDED.value:
        raise CodeRejected(_("This code has been withdrawn and earns no points."), code="batch_voided")
    if batch.status != BatchStatus.ACTIVATED.value:
        raise CodeRejected(
            _(
                "batch %(number)d has not shipped: run codes activate %(number)d --at DATE",
                number=batch.number,
            ),
            code="batch_not_active",
        )
    if batch.activated_at is not None and event.at < batch.activated_at:
        raise CodeRejected(
            _(
                "registered before batch %(number)d shipped (%(date)s)",
                number=batch.number,
                date=batch.activated_at.date().isoformat(),
            ),
            code="before_shipping",
        )
    return batch, found.serial


# --- the job ---------------------------------------------------------------------
# Here rather than in codes/jobs.py to keep the import's pieces together; the
# worker finds it by its "module:function" path like any other job.


def import_history_job(ctx: JobContext, path: str, with_fraud: bool = False) -> dict[str, Any]:
    """Imports a JSON-lines file of past registrations, committing and reporting per chunk."""
    file = Path(path)
    total = count_lines(file)
    ctx.progress(0, total, "")

    def after_chunk(report: HistoryReport) -> None:
        db.session.commit()
        ctx.progress(
            report.lines,
            total,
            _("%(n)d registered, %(bad)d bad lines", n=report.registered, bad=report.bad_count),
        )

    report = import_history(db.session, read_lines(file), with_fraud=with_fraud, after_chunk=after_chunk)
    db.session.commit()
    file.unlink(missing_ok=True)
    return report.as_json()
