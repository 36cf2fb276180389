"""Attempt counters in the database: slow down, then stop, people who keep failing.

Guessing codes must not pay. Each failed attempt (an invalid code) counts
against the person and against the network address. Within a window of an
hour the first few failures are free; after that every further attempt has
to wait longer (2, 4, 8 ... seconds after the last failure, at most a
minute); past the hard limit the subject is stopped for the block time.
`check()` raises `TooManyAttempts` with the seconds to wait.

Failures are recorded in the caller's session; a refused request has
nothing else to keep, so its handler commits the counter after the refusal.
The table is plain data the fraud package reads for its guessing detector
(`failures_of`).

Counters are kept in the database rather than in Redis so the embedded
default (SQLite, no Redis) behaves the same, and so a reviewer can see them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import String, UniqueConstraint, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from partner_club.database import UTCDateTime, ends_unit_of_work, savepoint, utcnow
from partner_club.errors import TooManyAttempts
from partner_club.extensions import db


@dataclass(frozen=True)
class Limits:
    free: int  # failures in the window before slowing down
    hard: int  # failures in the window before stopping
    window: timedelta = timedelta(hours=1)
    block: timedelta = timedelta(hours=1)
    max_delay: int = 60  # seconds, the slowest pace before the stop


# Per person, and per address (a shop's Wi-Fi may carry many honest people).
CODE_LIMITS = {"user": Limits(free=5, hard=20), "ip": Limits(free=25, hard=100)}


class AttemptCounter(db.Model):
    __tablename__ = "attempt_counters"
    __table_args__ = (UniqueConstraint("scope", "subject", name="attempt_counters_one_per_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(32))  # e.g. "code"
    subject: Mapped[str] = mapped_column(String(100))  # e.g. "user:12", "ip:10.0.0.1"
    failures: Mapped[int] = mapped_column(default=0)  # in the current window
    total_failures: Mapped[int] = mapped_column(default=0)  # ever, for the fraud package
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True, slots=True)
class CounterReading:
    """A counter as a caller read it along with something else (`READ_COLUMNS`, `remember`)."""

    subject: str
    failures: int
    total_failures: int
    window_started_at: datetime
    last_failure_at: datetime | None
    blocked_until: datetime | None


# The columns a caller reads along, in CounterReading's order.
READ_COLUMNS = (
    AttemptCounter.subject,
    AttemptCounter.failures,
    AttemptCounter.total_failures,
    AttemptCounter.window_started_at,
    AttemptCounter.last_failure_at,
    AttemptCounter.blocked_until,
)


def subjects(user_id: int | None, ip: str | None) -> list[tuple[str, str]]:
    """(kind, subject) pairs an attempt counts against."""
    found = []
    if user_id is not None:
        found.append(("user", f"user:{user_id}"))
    if ip:
        found.append(("ip", f"ip:{ip}"))
    return found


def wait_seconds(counter: AttemptCounter | CounterReading, limits: Limits, now: datetime) -> int:
    """Seconds the subject must wait before the next attempt (0: go ahead)."""
    if counter.blocked_until is not None and counter.blocked_until > now:
        return math.ceil((counter.blocked_until - now).total_seconds())
    if now - counter.window_started_at > limits.window or counter.last_failure_at is None:
        return 0
    over = counter.failures - limits.free
    if over <= 0:
        return 0
    delay = min(limits.max_delay, 2**over)
    ready_at = counter.last_failure_at + timedelta(seconds=delay)
    return max(0, math.ceil((ready_at - now).total_seconds()))


def check(
    session: Session,
    scope: str,
    pairs: Iterable[tuple[str, str]],
    *,
    limits: dict[str, Limits] = CODE_LIMITS,
    now: datetime | None = None,
) -> None:
    """Raises TooManyAttempts if any subject has to wait."""
    now = now or utcnow()
    pairs = list(pairs)
    if not pairs:
        return
    kinds = {subject: kind for kind, subject in pairs}
    counters = counters_of(session, scope, kinds).values()
    wait = max((wait_seconds(c, limits[kinds[c.subject]], now) for c in counters), default=0)
    if wait > 0:
        raise TooManyAttempts(
            _("Too many wrong codes. Try again in %(seconds)s seconds.", seconds=wait), retry_after=wait
        )


# Counters read in the session's current transaction, by (scope, subject): the fraud checks
# ask for the ones the registration service has just checked.
_READ = "throttle.counters"


def counters_of(
    session: Session, scope: str, subjects: Iterable[str]
) -> dict[str, AttemptCounter | CounterReading]:
    """The stored counters of these subjects (absent ones are missing), one query per transaction."""
    read = session.info.setdefault(_READ, {})
    subjects = list(subjects)
    wanted = [s for s in subjects if (scope, s) not in read]
    if wanted:
        remember(
            session,
            scope,
            wanted,
            session.scalars(
                select(AttemptCounter).where(
                    AttemptCounter.scope == scope, AttemptCounter.subject.in_(wanted)
                )
            ),
        )
    return {s: read[(scope, s)] for s in subjects if read[(scope, s)] is not None}


def remember(
    session: Session, scope: str, subjects: Iterable[str], counters: Iterable[AttemptCounter | CounterReading]
) -> None:
    """Counters of these subjects a caller read along with something else (absent ones have none):
    `check` and `counters_of` then need no query in this transaction. Read-only: a failure
    (`record_failure`) reads the rows again to count."""
    read = session.info.setdefault(_READ, {})
    found = {c.subject: c for c in counters}
    read.update({(scope, s): found.get(s) for s in subjects})


@event.listens_for(Session, "after_transaction_end")
def _forget_counters(session: Session, transaction: Any) -> None:
    if ends_unit_of_work(transaction):
        session.info.pop(_READ, None)


def record_failure(
    session: Session,
    scope: str,
    pairs: Iterable[tuple[str, str]],
    *,
    limits: dict[str, Limits] = CODE_LIMITS,
    now: datetime | None = None,
) -> None:
    """Counts one failure per subject in the caller's session.

    The refused request has nothing else to keep, so its handler commits
    right after the refusal: the counter survives while nothing else is
    written. (A side connection would deadlock on SQLite's single writer.)
    """
    now = now or utcnow()
    session.info.pop(_READ, None)  # counters may be created here
    for kind, subject in pairs:
        _count(session, scope, subject, limits[kind], now)


def _count(session: Session, scope: str, subject: str, limits: Limits, now: datetime) -> None:
    query = select(AttemptCounter).where(AttemptCounter.scope == scope, AttemptCounter.subject == subject)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    counter = session.scalars(query).first()
    if counter is None:
        counter = AttemptCounter(
            scope=scope, subject=subject, failures=0, total_failures=0, window_started_at=now
        )
        try:
            with savepoint(session):
                session.add(counter)
                session.flush()
        except IntegrityError:  # a parallel request created it first (PostgreSQL)
            counter = session.scalars(query).one()
    if now - counter.window_started_at > limits.window and not (
        counter.blocked_until and counter.blocked_until > now
    ):
        counter.failures = 0
        counter.window_started_at = now
    counter.failures += 1
    counter.total_failures += 1
    counter.last_failure_at = now
    if counter.failures >= limits.hard:
        counter.blocked_until = now + limits.block
        counter.failures = 0
        counter.window_started_at = now + limits.block
    session.flush()


def failures_of(session: Session, scope: str, subject: str) -> int:
    """Failures of a subject ever recorded (the fraud package's guessing signal)."""
    total = session.scalar(
        select(AttemptCounter.total_failures).where(
            AttemptCounter.scope == scope, AttemptCounter.subject == subject
        )
    )
    return int(total or 0)


def reset(session: Session, scope: str, subject: str) -> None:
    """Lifts a stop early (a staff decision)."""
    counter = session.scalars(
        select(AttemptCounter).where(AttemptCounter.scope == scope, AttemptCounter.subject == subject)
    ).first()
    if counter is not None:
        counter.failures = 0
        counter.blocked_until = None
        counter.window_started_at = utcnow()
        session.flush()
