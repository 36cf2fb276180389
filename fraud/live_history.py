"""`DbHistory`: the detectors' questions answered from `fraud_observations`, for live
registrations (`fraud.history` has the interface and the in-memory history of replays).

The detectors ask about the attempt being assessed; `expect` reads every answer they
will need in one statement: a `UNION ALL` of one select per question, each giving the
question's name (`kind`) and up to five answers in the same named columns (`at`, `a`, `b`,
`c`, `d`; what each means is said by the question, in `_question`).
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CompoundSelect,
    Integer,
    Row,
    Select,
    String,
    Subquery,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from fraud.history import (
    BASELINE_DAYS,
    DAY,
    FAIL_WINDOW,
    HOUR,
    IDENTITY_WINDOW,
    MIN_BASELINE_DAYS,
    RECENT_RUNS,
    THROTTLE_SCOPE,
    History,
    Observation,
    busy_day,
    local_day,
    peer_figures,
)
from fraud.models import FraudObservation
from fraud.neighbours import neighbour_pairs
from partner_club.database import UTCDateTime
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region
from partner_club.regions.zones import region_zone, zone_info
from partner_club.signals import ACCEPT, REJECT
from partner_club.throttle import counters_of


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _utc(value: Any) -> datetime:
    """A timestamp from an aggregate: SQLite may hand back naive datetimes or text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# Similar shops' usual day, per (database, group, day), kept a few minutes: the query reads
# four weeks of every shop of the kind, too much for each registration.
_PEER_CACHE: dict[tuple[str, Any, int], tuple[float, list[float]]] = {}
PEER_CACHE_SECONDS = 600.0

# A shop's own days before the local day asked about, per (database, shop): (day, UTC offset,
# read at, counts). Live observations are stored at the moment they happen, so the days before
# today do not change while today lasts and the entry would hold all day; the lifetime only
# bounds how long a past written by other means (a replay, a fixed clock) goes unseen, and
# storing an accepted registration of an earlier day drops the entry (`accepted_stored`).
_OUTLET_DAYS: dict[tuple[Any, int], tuple[int, float, float, list[int]]] = {}
OUTLET_DAYS_SECONDS = 600.0


def accepted_stored(session: Session, outlet_id: int, ts: float) -> None:
    """An accepted registration of the shop was stored: a usual day kept for a later day misses it."""
    key = (session.get_bind().url, outlet_id)
    kept = _OUTLET_DAYS.get(key)
    if kept is not None and local_day(ts, kept[1]) < kept[0]:
        del _OUTLET_DAYS[key]


# A region's time zone, per database and region: regions are few and keep their codes.
_REGION_ZONES: dict[tuple[Any, int], ZoneInfo | None] = {}


def region_utc_offset(session: Session, region_id: int | None, ts: float) -> float | None:
    """Hours a region's clock is ahead of UTC at `ts` (Vladivostok +10 where Moscow is +3);
    None for a region of unknown zone, whose shops keep the club's offset."""
    if region_id is None:
        return None
    key = (session.get_bind().url, region_id)
    if key not in _REGION_ZONES:
        iso_code = session.scalar(select(Region.iso_code).where(Region.id == region_id))
        _REGION_ZONES[key] = zone_info(region_zone(iso_code)) if iso_code else None
    zone = _REGION_ZONES[key]
    if zone is None:
        return None
    offset = datetime.fromtimestamp(ts, zone).utcoffset()
    return offset.total_seconds() / 3600 if offset is not None else None


def forget_cached() -> None:
    """Drops the per-process caches (a test suite that reuses ids in a wiped database)."""
    _PEER_CACHE.clear()
    _OUTLET_DAYS.clear()
    _REGION_ZONES.clear()


_THROTTLE_SUBJECTS = {"participant": "user", "ip": "ip"}  # the throttle's subject kinds
_O = aliased(FraudObservation, name="observation")
_COLUMNS = {"participant": _O.participant_id, "outlet": _O.outlet_id, "ip": _O.ip, "device": _O.device}

# The questions' parameters, named as `DbHistory._bound` fills them.
_NAMES = (
    "participant",
    "outlet",
    "ip",
    "device",
    "batch",
    "serial",
    "other_shop",
    "now",
    "hour_ago",
    "day_ago",
    "failed_since",
    "week_ago",
    "baseline_start",
    "today",
)
_AT_PARAMS = ("now", "hour_ago", "day_ago", "failed_since", "week_ago", "baseline_start", "today")
_P = {
    name: bindparam(
        name,
        type_=UTCDateTime() if name in _AT_PARAMS else String() if name in ("ip", "device") else Integer(),
    )
    for name in _NAMES
}
_SPANS = {HOUR: "hour", DAY: "day"}


def _part(name: str, *, at: Any = None, a: Any = None, b: Any = None, c: Any = None, d: Any = None) -> Select:
    """One question's select in the read-ahead's named columns (kind, at, a, b, c, d), the
    columns its question leaves empty typed NULLs."""
    return select(
        literal_column(f"'{name}'", String()).label("kind"),
        (cast(null(), UTCDateTime()) if at is None else type_coerce(at, UTCDateTime())).label("at"),
        *(
            (cast(null(), Integer()) if v is None else v).label(n)
            for n, v in (("a", a), ("b", b), ("c", c), ("d", d))
        ),
    )


def _until_now(kind: str, since: str) -> tuple:
    return _COLUMNS[kind] == _P[kind], _O.at > _P[since], _O.at <= _P["now"]


def _latest(alias: str, n: int, columns: tuple, *where: Any) -> Subquery:
    return (
        select(_O.at, _O.id, *columns)
        .where(*where)
        .order_by(_O.at.desc(), _O.id.desc())
        .limit(n)
        .subquery(alias)
    )


@functools.cache
def _question(name: str) -> Select:
    """The select answering one question, on its own index. Names: failed:<kind>, last, recent,
    shop_recent, registered, window:<kind>:<hour|day>, accounts:<kind>, first_day, baseline."""
    decoded = _O.failure.is_(None)
    what, _, kind = name.partition(":")
    if what == "failed":  # refused codes, and the accounts behind them
        return _part(name, a=func.count(), b=func.count(func.distinct(_O.participant_id))).where(
            _O.failure.is_not(None), *_until_now(kind, "failed_since")
        )
    if what == "last":  # a person's last decoded code
        rows = _latest("last_decoded", 1, (_O.fast_streak,), _O.participant_id == _P["participant"], decoded)
        return _part(name, at=rows.c.at, a=rows.c.fast_streak, d=rows.c.id)
    if what == "recent":  # and the last few of one batch
        rows = _latest(
            "recent_in_batch",
            RECENT_RUNS,
            (_O.serial, _O.run_length, _O.run_start),
            _O.participant_id == _P["participant"],
            _O.batch_id == _P["batch"],
            decoded,
        )
        return _part(
            name, at=rows.c.at, a=rows.c.serial, b=rows.c.run_length, c=rows.c.run_start, d=rows.c.id
        )
    if what == "shop_recent":  # the shop's last few of one batch, by any of its people
        rows = _latest(
            "shop_recent_in_batch",
            RECENT_RUNS,
            (_O.serial,),
            _O.outlet_id == _P["outlet"],
            _O.batch_id == _P["batch"],
            decoded,
            _O.at > _P["hour_ago"],
            _O.at <= _P["now"],
        )
        return _part(name, at=rows.c.at, a=rows.c.serial, d=rows.c.id)
    if what == "registered":
        return _part(name, a=func.count()).where(
            _O.batch_id == _P["batch"], _O.serial == _P["serial"], decoded, _O.decision != REJECT
        )
    if what == "window":  # decoded codes (a: all, b: accepted, at: the first) of the last hour or day
        kind, span = kind.split(":")
        accepted = func.count(case((_O.decision == ACCEPT, 1)))
        return _part(name, at=func.min(_O.at), a=func.count(), b=accepted).where(
            decoded, *_until_now(kind, f"{span}_ago")
        )
    if what == "accounts":
        # CASE leaves NULL where a row does not count, and count(DISTINCT) skips NULL.
        other_person = case((_O.participant_id != _P["participant"], _O.participant_id))
        other_shop = case((and_(_O.outlet_id.is_not(None), _O.outlet_id != _P["other_shop"]), _O.outlet_id))
        return _part(
            name, a=func.count(func.distinct(other_person)), b=func.count(func.distinct(other_shop))
        ).where(decoded, *_until_now(kind, "week_ago"))
    counted = (_O.outlet_id == _P["outlet"], decoded, _O.decision == ACCEPT)  # a shop's usual day
    if what == "first_day":
        return _part(name, at=func.min(_O.at)).where(*counted)
    return _part(name, at=_O.at).where(*counted, _O.at >= _P["baseline_start"], _O.at < _P["today"])


@functools.cache
def _read_ahead(names: tuple[str, ...]) -> CompoundSelect:
    return union_all(*(_question(name) for name in names))


def _questions(obs: Observation, kinds: tuple[str, ...], baseline: bool) -> tuple[str, ...]:
    """What the detectors will ask about `obs`, given the kinds of keys it has."""
    names = [f"failed:{kind}" for kind in kinds if kind != "outlet"]
    if not obs.valid:  # a refused code interests only the guessing rule
        return tuple(names)
    names.append("last")
    if obs.batch_id is not None:
        names += ["recent", "registered"] + (["shop_recent"] if "outlet" in kinds else [])
    names += [
        f"window:{kind}:{span}"
        for kind in ("participant", "outlet")
        if kind in kinds
        for span in ("hour", "day")
    ]
    names += [f"accounts:{kind}" for kind in ("ip", "device") if kind in kinds]
    return tuple(names + (["first_day", "baseline"] if baseline else []))


class DbHistory(History):
    """The same answers from `fraud_observations`, for live registrations.

    `expect(obs)` reads in one statement all the detectors will ask about `obs`; those answers
    hold until the next `expect` (an observation is stored after its assessment). A question
    about anything else runs the same select on its own."""

    def __init__(self, session: Session, utc_offset_hours: float = 3.0) -> None:
        self.session = session
        self.utc_offset_hours = utc_offset_hours
        self._expected: dict[str, Any] = {}
        self._found: dict[str, list[Row]] = {}

    def expect(self, obs: Observation) -> None:
        keys = {
            kind: key
            for kind, key in (
                ("participant", obs.participant_id),
                ("outlet", obs.outlet_id),
                ("ip", obs.ip),
                ("device", obs.device),
            )
            if key is not None
        }
        day = local_day(obs.ts, self.utc_offset_hours)
        baseline = obs.valid and obs.outlet_id is not None and self._cached_days(obs.outlet_id, day) is None
        names = _questions(obs, tuple(keys), baseline)
        self._expected = dict(
            keys,
            now=obs.ts,
            batch=obs.batch_id,
            serial=obs.serial,
            local_day=day,
            other_shop=obs.outlet_id if obs.outlet_id is not None else -1,
        )
        self._found = {name: [] for name in names}
        # Core execution: the read-ahead runs on every registration and loads no ORM objects.
        for row in self.session.connection().execute(_read_ahead(names), self._bound(self._expected)):
            self._found[row.kind].append(row)
        if baseline:
            self._remember_days(obs.outlet_id, day, self._found)
        # Codes has read these for its own throttle in this transaction; else one read for all.
        counters_of(
            self.session,
            THROTTLE_SCOPE,
            [f"{subject}:{keys[kind]}" for kind, subject in _THROTTLE_SUBJECTS.items() if kind in keys],
        )

    def _answer(self, name: str, **asked: Any) -> list[Row]:
        """The rows of question `name`: read ahead if `asked` is about the expected observation."""
        found = self._found.get(name)
        if found is not None and all(self._expected.get(k) == v for k, v in asked.items()):
            return found
        return self.session.execute(_question(name), self._bound(asked)).all()

    def _bound(self, asked: dict[str, Any]) -> dict[str, Any]:
        params = dict(asked)
        now = asked.get("now")
        if now is not None:
            params.update(
                now=_dt(now),
                hour_ago=_dt(now - HOUR),
                day_ago=_dt(now - DAY),
                failed_since=_dt(now - FAIL_WINDOW),
                week_ago=_dt(now - IDENTITY_WINDOW),
            )
        day = asked.get("local_day")
        if day is not None:
            params.update(baseline_start=self._day_start(day - BASELINE_DAYS), today=self._day_start(day))
        return {name: value for name, value in params.items() if name in _NAMES}

    def _day_start(self, day: int) -> datetime:
        return _dt(day * DAY - self.utc_offset_hours * HOUR)

    # --- questions ---

    def count(self, kind, key, now, seconds):
        base, span = kind.removesuffix("_all"), _SPANS.get(seconds)
        if span is None:
            return self.session.scalar(select(func.count()).where(self._valid(kind, key, now, seconds)))
        row = self._answer(f"window:{base}:{span}", now=now, **{base: key})[0]
        return row.a if kind.endswith("_all") else row.b

    def first_ts(self, kind, key, now, seconds):
        base, span = kind.removesuffix("_all"), _SPANS.get(seconds)
        if span is not None and kind.endswith("_all"):
            first = self._answer(f"window:{base}:{span}", now=now, **{base: key})[0].at
        else:
            first = self.session.scalar(select(func.min(_O.at)).where(self._valid(kind, key, now, seconds)))
        return None if first is None else _utc(first).timestamp()

    def failed(self, kind, key, now):
        own = self._answer(f"failed:{kind}", now=now, **{kind: key})[0].a
        return max(own, self._throttled(kind, key, now))

    def failed_accounts(self, kind, key, now):
        return self._answer(f"failed:{kind}", now=now, **{kind: key})[0].b

    def accounts(self, kind, key, now, participant_id, outlet_id):
        row = self._answer(
            f"accounts:{kind}",
            now=now,
            participant=participant_id,
            other_shop=outlet_id if outlet_id is not None else -1,
            **{kind: key},
        )[0]
        return int(row.a) + 1, int(row.b) + int(outlet_id is not None)

    def is_registered(self, batch_id, serial):
        return self._answer("registered", batch=batch_id, serial=serial)[0].a > 0

    def recent_in_batch(self, participant_id, batch_id):
        rows = sorted(
            self._answer("recent", participant=participant_id, batch=batch_id),
            key=lambda r: (_utc(r.at), r.d),
            reverse=True,
        )
        return [(r.a, r.b, r.c if r.c is not None else r.a) for r in rows]

    def recent_in_shop_batch(self, outlet_id, batch_id, now):
        rows = sorted(
            self._answer("shop_recent", outlet=outlet_id, batch=batch_id, now=now),
            key=lambda r: (_utc(r.at), r.d),
            reverse=True,
        )
        return [r.a for r in rows]

    def last_of(self, participant_id):
        rows = self._answer("last", participant=participant_id)
        return (_utc(rows[0].at).timestamp(), rows[0].a) if rows else None

    def add(self, obs: Observation) -> None:
        """The live path stores the observation row itself (services.store_observation)."""

    # --- a shop's usual day ---

    def outlet_days(self, outlet_id, day):
        days = self._cached_days(outlet_id, day)
        if days is None:
            found = {"first_day": [], "baseline": []}
            for row in self.session.execute(
                _read_ahead(tuple(found)), self._bound({"outlet": outlet_id, "local_day": day})
            ):
                found[row.kind].append(row)
            days = self._remember_days(outlet_id, day, found)
        return days

    def _cached_days(self, outlet_id: int, day: int) -> list[int] | None:
        kept = _OUTLET_DAYS.get((self.session.get_bind().url, outlet_id))
        if (
            kept is None
            or kept[:2] != (day, self.utc_offset_hours)
            or time.monotonic() - kept[2] >= OUTLET_DAYS_SECONDS
        ):
            return None
        return kept[3]

    def _remember_days(self, outlet_id: int, day: int, found: dict[str, list[Row]]) -> list[int]:
        first = found["first_day"][0].at
        counts = Counter(
            local_day(_utc(row.at).timestamp(), self.utc_offset_hours) for row in found["baseline"]
        )
        days = (
            []
            if first is None
            else [
                counts.get(d, 0)
                for d in range(
                    max(local_day(_utc(first).timestamp(), self.utc_offset_hours), day - BASELINE_DAYS), day
                )
            ]
        )
        _OUTLET_DAYS[(self.session.get_bind().url, outlet_id)] = (
            day,
            self.utc_offset_hours,
            time.monotonic(),
            days,
        )
        return days

    def neighbour_pairs(self):
        return neighbour_pairs(self.session)

    def peer_baseline(self, group, day, size=None):
        key = (str(self.session.get_bind().url), group, day)
        stamped = _PEER_CACHE.get(key)
        cached = stamped[1] if stamped and time.monotonic() - stamped[0] < PEER_CACHE_SECONDS else None
        if cached is None:
            kind, region = group if isinstance(group, tuple) else (group, None)
            similar = [Outlet.kind == kind] + ([Outlet.region_id == region] if region is not None else [])
            outlet_ids = list(self.session.scalars(select(Outlet.id).where(*similar)))
            cached = (
                [
                    busy_day(days)
                    for days in self._usuals(outlet_ids, day).values()
                    if len(days) >= MIN_BASELINE_DAYS
                ]
                if outlet_ids
                else []
            )
            _PEER_CACHE[key] = (time.monotonic(), cached)
        return peer_figures(cached, size)

    def _usuals(self, outlet_ids, day) -> dict[int, list[int]]:
        """Registrations per local day before `day` of each shop with any, since its first (at most 28)."""
        counted = (_O.outlet_id.in_(outlet_ids), _O.failure.is_(None), _O.decision == ACCEPT)
        counts: dict[int, Counter] = {}
        for outlet_id, at in self.session.execute(
            select(_O.outlet_id, _O.at).where(
                *counted, _O.at >= self._day_start(day - BASELINE_DAYS), _O.at < self._day_start(day)
            )
        ):
            counts.setdefault(outlet_id, Counter())[
                local_day(_utc(at).timestamp(), self.utc_offset_hours)
            ] += 1
        firsts = {
            outlet_id: local_day(_utc(first).timestamp(), self.utc_offset_hours)
            for outlet_id, first in self.session.execute(
                select(_O.outlet_id, func.min(_O.at)).where(*counted).group_by(_O.outlet_id)
            )
        }
        return {
            o: [counts.get(o, {}).get(d, 0) for d in range(max(first, day - BASELINE_DAYS), day)]
            for o, first in firsts.items()
        }

    def _valid(self, kind, key, now, seconds):
        """Decoded codes in a window: accepted ones, or all of them for kinds ending in _all."""
        base = kind.removesuffix("_all")
        return and_(
            _COLUMNS[base] == key,
            _O.failure.is_(None),
            true() if base != kind else _O.decision == ACCEPT,
            _O.at > _dt(now - seconds),
            _O.at <= _dt(now),
        )

    def _throttled(self, kind, key, now) -> int:
        """Refused codes the registration service counted (its throttle survives the refusal's rollback);
        codes has read the expected attempt's counters in this transaction already."""
        subject = f"{_THROTTLE_SUBJECTS[kind]}:{key}" if kind in _THROTTLE_SUBJECTS else None
        counter = counters_of(self.session, THROTTLE_SCOPE, [subject]).get(subject) if subject else None
        if counter is None or counter.last_failure_at is None:
            return 0
        return counter.failures if counter.last_failure_at.timestamp() >= now - FAIL_WINDOW else 0
