"""Sign-in limits that hold across every app process: per account and per address.

`/login` and `POST /api/v1/auth/token` both go through `sign_in`, so they
count together. An account's first failures are free; after that each
further attempt must wait twice as long as the last (2, 4, 8 ... seconds,
at most 15 minutes) after the latest failure. Nothing locks an owner out
for good: once the wait is over, the right password works and clears the
account's count. An address gets more free failures (a shop's Wi-Fi or a
mobile carrier puts many honest people behind one), then the same delays.

The counters live in Redis when REDIS_URL is set (through Flask-Limiter's
storage, which every process shares) and in the database otherwise
(`partner_club/throttle.py`'s counters, scope "signin"). Accounts are
counted by a hash of the login, known or not, so the counters tell nothing
about who is in the club and hold no e-mail or phone.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from flask_babel import gettext as _
from limits.storage import Storage
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from partner_club import throttle
from partner_club.accounts.models import User
from partner_club.accounts.services import BadCredentials, authenticate, normalize_login
from partner_club.database import utcnow
from partner_club.errors import Invalid, TooManyAttempts

SCOPE = "signin"
WINDOW = timedelta(hours=24)  # failures older than this are forgotten
MAX_DELAY = 15 * 60
LIMITS = {
    "account": throttle.Limits(free=5, hard=10**9, window=WINDOW, max_delay=MAX_DELAY),
    "address": throttle.Limits(free=20, hard=10**9, window=WINDOW, max_delay=MAX_DELAY),
}


def subjects(raw_login: str, ip: str | None) -> list[tuple[str, str]]:
    try:
        login = normalize_login(raw_login)
    except Invalid:
        login = (raw_login or "").strip().lower()
    found = [("account", "account:" + hashlib.sha256(login.encode()).hexdigest()[:40])]
    if ip:
        found.append(("address", f"ip:{ip}"))
    return found


class Store(Protocol):
    def wait_seconds(self, session: Session, pairs: list[tuple[str, str]]) -> int: ...
    def record_failure(self, session: Session, pairs: list[tuple[str, str]]) -> None: ...
    def forget(self, session: Session, subject: str) -> None: ...


class DatabaseStore:
    """Counters in the caller's transaction: a refused sign-in commits them."""

    def wait_seconds(self, session: Session, pairs: list[tuple[str, str]]) -> int:
        kinds = {subject: kind for kind, subject in pairs}
        now = utcnow()
        counters = throttle.counters_of(session, SCOPE, kinds).values()
        return max((throttle.wait_seconds(c, LIMITS[kinds[c.subject]], now) for c in counters), default=0)

    def record_failure(self, session: Session, pairs: list[tuple[str, str]]) -> None:
        throttle.record_failure(session, SCOPE, pairs, limits=LIMITS)

    def forget(self, session: Session, subject: str) -> None:
        throttle.reset(session, SCOPE, subject)


@dataclass
class RedisStore:
    """Counters in Flask-Limiter's Redis storage: a count and a key that lives as long as the wait."""

    storage: Storage
    prefix: str

    def _key(self, subject: str, part: str) -> str:
        return f"{self.prefix}/{SCOPE}/{subject}/{part}"

    def wait_seconds(self, session: Session, pairs: list[tuple[str, str]]) -> int:
        wait = 0
        for _kind, subject in pairs:
            key = self._key(subject, "wait")
            if self.storage.get(key) > 0:
                wait = max(wait, math.ceil(self.storage.get_expiry(key) - time.time()))
        return wait

    def record_failure(self, session: Session, pairs: list[tuple[str, str]]) -> None:
        for kind, subject in pairs:
            limits = LIMITS[kind]
            failures = self.storage.incr(self._key(subject, "count"), int(WINDOW.total_seconds()))
            over = failures - limits.free
            if over > 0:
                wait_key = self._key(subject, "wait")
                self.storage.clear(wait_key)
                self.storage.incr(wait_key, min(limits.max_delay, 2**over))

    def forget(self, session: Session, subject: str) -> None:
        self.storage.clear(self._key(subject, "count"))
        self.storage.clear(self._key(subject, "wait"))


@dataclass
class RedisOrDatabaseStore:
    """Redis while it answers; the database's counters while it is down, so sign-in keeps
    working (and keeps counting) through a Redis outage."""

    redis: RedisStore
    database: DatabaseStore

    def wait_seconds(self, session: Session, pairs: list[tuple[str, str]]) -> int:
        try:
            return self.redis.wait_seconds(session, pairs)
        except (RedisError, OSError):
            return self.database.wait_seconds(session, pairs)

    def record_failure(self, session: Session, pairs: list[tuple[str, str]]) -> None:
        try:
            self.redis.record_failure(session, pairs)
        except (RedisError, OSError):
            self.database.record_failure(session, pairs)

    def forget(self, session: Session, subject: str) -> None:
        try:
            self.redis.forget(session, subject)
        except (RedisError, OSError):
            self.database.forget(session, subject)


def store_for(config: Any, limiter_storage: Storage) -> Store:
    if config.get("REDIS_URL"):
        redis = RedisStore(limiter_storage, config.get("RATELIMIT_KEY_PREFIX") or "pc")
        return RedisOrDatabaseStore(redis, DatabaseStore())
    return DatabaseStore()


def sign_in(session: Session, store: Store, raw_login: str, password: str, *, ip: str | None) -> User:
    """`authenticate` behind the limits. A wrong password counts against the account and the
    address (the caller commits after the refusal, so the count survives); the right one
    clears the account's count. Raises `TooManyAttempts` with the seconds to wait."""
    pairs = subjects(raw_login, ip)
    wait = store.wait_seconds(session, pairs)
    if wait > 0:
        raise TooManyAttempts(
            _("Too many wrong passwords. Try again in %(seconds)s seconds.", seconds=wait), retry_after=wait
        )
    try:
        user = authenticate(session, raw_login, password)
    except BadCredentials:
        store.record_failure(session, pairs)
        raise
    store.forget(session, pairs[0][1])
    return user
