"""The past the detectors look at, behind one small interface.

`MemoryHistory` keeps sliding windows in dictionaries: replay and backtests
feed it millions of events in time order without touching the database.
`fraud.live_history.DbHistory` answers the same questions from
`fraud_observations` for live registrations. Both see `Observation`s: one
registration attempt, already enriched with what the detectors need (shop,
batch, regions).
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from partner_club.signals import ACCEPT, REJECT

HOUR = 3600.0
DAY = 86400.0
FAIL_WINDOW = HOUR  # invalid attempts are counted over the last hour
IDENTITY_WINDOW = 7 * DAY  # accounts behind one device or address: the last week
BASELINE_DAYS = 28  # a shop's usual: the median day of the last four weeks
THROTTLE_SCOPE = "code"  # codes' attempt counters for typed codes
MIN_BASELINE_DAYS = 7  # fewer days than this: compare with similar shops instead
PEER_SPREAD = 2  # similar shops' busy day: their median plus this many (scaled) MADs
MIN_PEERS = 5  # similar shops of a kind in one region before the region's alone are compared
RECENT_RUNS = 8  # a roll's run survives this many other codes in between
SIZE_STEP = 3.0  # size classes of shops: busy days within a factor of three (1-2, 3-8, 9-26, 27-80...)


@dataclass(slots=True)
class Observation:
    ts: float  # seconds since the epoch (UTC)
    participant_id: int
    outlet_id: int | None = None
    outlet_kind: str | None = None
    outlet_lat: float | None = None
    outlet_lon: float | None = None
    region_id: int | None = None
    region_name: tuple[str, str] | None = None  # (English, Russian)
    utc_offset_hours: float | None = None  # the shop's region's clock at `ts`; None: the club's
    channel: str = "typed"
    ip: str | None = None
    device: str | None = None
    lat: float | None = None
    lon: float | None = None
    code: str | None = None
    failure: str | None = None  # why the code was refused; None when it decoded
    batch_id: int | None = None
    batch_number: int | None = None
    serial: int | None = None
    batch_region_id: int | None = None
    batch_region_name: tuple[str, str] | None = None
    batch_shipped: bool | None = None  # False: the batch was not activated at `ts`
    is_canary: bool = False
    run_length: int = 0
    run_start: int | None = None
    fast_streak: int = 0
    decision: str = ACCEPT
    sent_ts: float | None = None  # when a phone's queue sent a code read earlier (`ts` is the read)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.failure is None

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.ts, UTC)


def local_day(ts: float, utc_offset_hours: float = 3.0) -> int:
    return int((ts + utc_offset_hours * HOUR) // DAY)


def busy_day(days: list[int]) -> float:
    """A shop's busy day: its biggest of the period. Deliveries come every few days and are
    registered at unpacking, so the median day is often zero while the busy day is a pallet."""
    return float(max(days)) if days else 0.0


def size_class(busy: float) -> int:
    """A shop's size class from its busy day: a builders' yard is not compared with a kiosk."""
    return int(math.log(max(busy, 1.0), SIZE_STEP) + 1e-9)


def peer_figures(usuals: list[float], size: int | None) -> tuple[float, float, int]:
    """(median, MAD, number of shops) of the busy days of peers, of one size class if given."""
    if size is not None:
        usuals = [u for u in usuals if size_class(u) == size]
    return (*median_mad(usuals), len(usuals))


def median_mad(values: list[int] | list[float]) -> tuple[float, float]:
    """Median and median absolute deviation: one wild day does not move them."""
    if not values:
        return 0.0, 0.0
    med = statistics.median(values)
    return float(med), float(statistics.median(abs(v - med) for v in values))


class History:
    """What every detector may ask. Times are epoch seconds; windows end at `now`."""

    utc_offset_hours = 3.0

    def count(self, kind: str, key: Any, now: float, seconds: float) -> int:
        """Accepted registrations by participant|outlet in the window (held ones wait for review);
        kinds participant_all|outlet_all count held and refused ones too."""
        raise NotImplementedError

    def first_ts(self, kind: str, key: Any, now: float, seconds: float) -> float | None:
        raise NotImplementedError

    def failed(self, kind: str, key: Any, now: float) -> int:
        """Refused codes by participant|ip|device over FAIL_WINDOW."""
        raise NotImplementedError

    def failed_accounts(self, kind: str, key: Any, now: float) -> int:
        """Distinct participants with refused codes from one ip|device over FAIL_WINDOW."""
        raise NotImplementedError

    def accounts(
        self, kind: str, key: Any, now: float, participant_id: int, outlet_id: int | None
    ) -> tuple[int, int]:
        """(distinct participants, distinct shops) behind one ip|device over IDENTITY_WINDOW,
        counting the given participant and shop too."""
        raise NotImplementedError

    def outlet_days(self, outlet_id: int, day: int) -> list[int]:
        """Registrations per local day before `day`, since the shop's first one (at most 28)."""
        raise NotImplementedError

    def peer_baseline(self, group: Any, day: int, size: int | None = None) -> tuple[float, float, int]:
        """(median, MAD, number of shops) of the busy day (`busy_day`) of shops in `group`,
        only those of size class `size` when given."""
        raise NotImplementedError

    def neighbour_pairs(self) -> frozenset[frozenset[int]]:
        """Pairs of neighbouring region ids (fraud.neighbours)."""
        return frozenset()

    def are_neighbours(self, region_a: int, region_b: int) -> bool:
        return frozenset((region_a, region_b)) in self.neighbour_pairs()

    def is_registered(self, batch_id: int, serial: int) -> bool:
        raise NotImplementedError

    def recent_in_batch(self, participant_id: int, batch_id: int) -> list[tuple[int, int, int]]:
        """(serial, run_length, run_start) of this person's last RECENT_RUNS codes of the batch."""
        raise NotImplementedError

    def recent_in_shop_batch(self, outlet_id: int, batch_id: int, now: float) -> list[int]:
        """Serials of the shop's last RECENT_RUNS codes of the batch within the last hour, by any
        of its people (older ones would let yesterday's fraud colour today's delivery)."""
        raise NotImplementedError

    def last_of(self, participant_id: int) -> tuple[float, int] | None:
        """(ts, fast_streak) of this person's last decoded registration."""
        raise NotImplementedError

    def add(self, obs: Observation) -> None:
        raise NotImplementedError

    def expect(self, obs: Observation) -> None:
        """The detectors are about to ask about `obs`: a history may read ahead (DbHistory does)."""

    def usual_day(self, outlet_id: int | None, group: Any, day: int) -> tuple[float, float, str]:
        """(the shop's busy day, similar shops' busy day, basis): basis "own" once the shop has
        MIN_BASELINE_DAYS of history, "peers" while it is new, "none" when nobody has any.

        `group` is the shop's (kind, region): similar shops are those of its kind in its region,
        or of its kind anywhere while the region has fewer than MIN_PEERS with a history. A shop
        with a history of its own is compared with shops of its size class (`size_class`) first,
        while there are MIN_PEERS of them; a new shop, whose size is not known yet, with all."""
        kind, region = group if isinstance(group, tuple) else (group, None)
        own = self.outlet_days(outlet_id, day) if outlet_id is not None else []
        has_own = len(own) >= MIN_BASELINE_DAYS
        size = size_class(busy_day(own)) if has_own else None
        # Comparable shops: kind, region and size; then kind and size anywhere; then without size.
        candidates: list[tuple[Any, int | None]] = []
        if size is not None:
            candidates += [((kind, region), size)] if region is not None else []
            candidates.append((kind, size))
        candidates += [((kind, region), None)] if region is not None else []
        candidates.append((kind, None))
        for peer_group, peer_size in candidates:
            med, mad, shops = self.peer_baseline(peer_group, day, peer_size)
            if shops >= MIN_PEERS:
                break
        # Shops differ in size: a new shop may be one of the bigger ones among its peers.
        peers = med + PEER_SPREAD * 1.4826 * mad
        if has_own:
            return busy_day(own), peers, "own"
        return peers, peers, "peers" if shops else "none"


class _Window:
    """Timestamps in time order with optional distinct-value counters over the kept span."""

    __slots__ = ("counters", "start", "tags", "ts")

    def __init__(self, distinct: int = 0) -> None:
        self.ts: list[float] = []
        self.tags: list[tuple] = []
        self.start = 0
        self.counters = [Counter() for _ in range(distinct)]

    def add(self, ts: float, *tags: Any) -> None:
        self.ts.append(ts)
        if self.counters:
            self.tags.append(tags)
            for counter, tag in zip(self.counters, tags, strict=False):
                counter[tag] += 1

    def prune(self, horizon: float) -> None:
        end = bisect_right(self.ts, horizon, self.start)
        if end == self.start:
            return
        if self.counters:
            for tags in self.tags[self.start : end]:
                for counter, tag in zip(self.counters, tags, strict=False):
                    counter[tag] -= 1
                    if not counter[tag]:
                        del counter[tag]
        self.start = end
        if end > 256 and end * 2 > len(self.ts):
            del self.ts[:end]
            if self.counters:
                del self.tags[:end]
            self.start = 0

    def count_after(self, horizon: float) -> int:
        return len(self.ts) - bisect_right(self.ts, horizon, self.start)

    def first_after(self, horizon: float) -> float | None:
        i = bisect_right(self.ts, horizon, self.start)
        return self.ts[i] if i < len(self.ts) else None


class MemoryHistory(History):
    def __init__(self, utc_offset_hours: float = 3.0) -> None:
        self.utc_offset_hours = utc_offset_hours
        self.valid = {"participant": {}, "outlet": {}, "participant_all": {}, "outlet_all": {}}
        self.fails = {"participant": {}, "ip": {}, "device": {}}
        self.idents = {"ip": {}, "device": {}}
        self.days: dict[int, dict[int, int]] = {}
        self.first_day: dict[int, int] = {}
        self.groups: dict[Any, set[int]] = {}
        self.registered: set[tuple[int, int]] = set()
        self.batch_last: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
        self.shop_batch_last: dict[tuple[int, int], list[tuple[float, int]]] = {}
        self.person_last: dict[int, tuple[float, int]] = {}
        self._usual_cache: dict[tuple[int, int], list[int]] = {}
        self._peer_cache: dict[tuple[Any, int], list[float]] = {}
        self._day_cache: dict[tuple[Any, Any, int], tuple[float, float, str]] = {}
        self.neighbours: frozenset[frozenset[int]] = frozenset()

    def neighbour_pairs(self):
        return self.neighbours

    def _window(self, table: dict, key: Any, now: float, keep: float) -> _Window | None:
        window = table.get(key)
        if window is not None:
            window.prune(now - keep)
        return window

    def count(self, kind, key, now, seconds):
        window = self._window(self.valid[kind], key, now, DAY)
        return window.count_after(now - seconds) if window else 0

    def first_ts(self, kind, key, now, seconds):
        window = self._window(self.valid[kind], key, now, DAY)
        return window.first_after(now - seconds) if window else None

    def failed(self, kind, key, now):
        window = self._window(self.fails[kind], key, now, FAIL_WINDOW)
        return window.count_after(now - FAIL_WINDOW) if window else 0

    def failed_accounts(self, kind, key, now):
        window = self._window(self.fails[kind], key, now, FAIL_WINDOW)
        return len(window.counters[0]) if window else 0

    def accounts(self, kind, key, now, participant_id, outlet_id):
        window = self._window(self.idents[kind], key, now, IDENTITY_WINDOW)
        if window is None:
            return 1, int(outlet_id is not None)
        people, shops = window.counters
        return (
            len(people) + (participant_id not in people),
            len(shops) + (outlet_id is not None and outlet_id not in shops),
        )

    def outlet_days(self, outlet_id, day):
        cached = self._usual_cache.get((outlet_id, day))
        if cached is not None:
            return cached
        first = self.first_day.get(outlet_id)
        counts = self.days.get(outlet_id, {})
        result = (
            [] if first is None else [counts.get(d, 0) for d in range(max(first, day - BASELINE_DAYS), day)]
        )
        self._usual_cache[(outlet_id, day)] = result
        return result

    def usual_day(self, outlet_id, group, day):
        key = (outlet_id, group, day)
        cached = self._day_cache.get(key)
        if cached is None:
            cached = self._day_cache[key] = History.usual_day(self, outlet_id, group, day)
        return cached

    def peer_baseline(self, group, day, size=None):
        usuals = self._peer_cache.get((group, day))
        if usuals is None:
            usuals = self._peer_cache[(group, day)] = [
                busy_day(days)
                for outlet in self.groups.get(group, ())
                if len(days := self.outlet_days(outlet, day)) >= MIN_BASELINE_DAYS
            ]
        return peer_figures(usuals, size)

    def is_registered(self, batch_id, serial):
        return (batch_id, serial) in self.registered

    def recent_in_batch(self, participant_id, batch_id):
        return self.batch_last.get((participant_id, batch_id), ())

    def recent_in_shop_batch(self, outlet_id, batch_id, now):
        return [s for ts, s in self.shop_batch_last.get((outlet_id, batch_id), ()) if now - HOUR < ts <= now]

    def last_of(self, participant_id):
        return self.person_last.get(participant_id)

    def add(self, obs: Observation) -> None:
        ts = obs.ts
        if obs.failure is not None:
            for kind, key in (("participant", obs.participant_id), ("ip", obs.ip), ("device", obs.device)):
                if key is not None:
                    _get(self.fails[kind], key, 1).add(ts, obs.participant_id)
            return
        for kind, key in (("ip", obs.ip), ("device", obs.device)):
            if key is not None:
                _get(self.idents[kind], key, 2).add(ts, obs.participant_id, obs.outlet_id)
        _get(self.valid["participant_all"], obs.participant_id).add(ts)
        if obs.outlet_id is not None:
            _get(self.valid["outlet_all"], obs.outlet_id).add(ts)
        if obs.decision == ACCEPT:
            _get(self.valid["participant"], obs.participant_id).add(ts)
        if obs.outlet_id is not None and obs.decision == ACCEPT:
            _get(self.valid["outlet"], obs.outlet_id).add(ts)
            day = local_day(ts, self.utc_offset_hours)
            per_day = self.days.setdefault(obs.outlet_id, {})
            per_day[day] = per_day.get(day, 0) + 1
            if obs.outlet_id not in self.first_day:
                self.first_day[obs.outlet_id] = day
                self.groups.setdefault(obs.outlet_kind, set()).add(obs.outlet_id)
                self.groups.setdefault((obs.outlet_kind, obs.region_id), set()).add(obs.outlet_id)
        if obs.batch_id is not None and obs.serial is not None:
            if obs.decision != REJECT:
                self.registered.add((obs.batch_id, obs.serial))
            recent = self.batch_last.setdefault((obs.participant_id, obs.batch_id), [])
            recent.insert(0, (obs.serial, obs.run_length, obs.run_start or obs.serial))
            del recent[RECENT_RUNS:]
            if obs.outlet_id is not None:
                shop = self.shop_batch_last.setdefault((obs.outlet_id, obs.batch_id), [])
                shop.insert(0, (ts, obs.serial))
                del shop[RECENT_RUNS:]
        self.person_last[obs.participant_id] = (ts, obs.fast_streak)


def _get(table: dict, key: Any, distinct: int = 0) -> _Window:
    window = table.get(key)
    if window is None:
        window = table[key] = _Window(distinct)
    return window
