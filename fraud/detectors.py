"""The detectors: small classes in a dict keyed by name.

Each looks at one `Observation` and the `History` before it, and returns a
`Reason` (score, plain words, evidence) or None. Thresholds are parameters
the admin sets within sane ranges (`Param`); `describe(evidence)` renders the
reason in the current language, so a reviewer reads it in theirs.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from fraud.history import DAY, HOUR, RECENT_RUNS, History, Observation, local_day
from partner_club.signals import Reason


@dataclass(frozen=True)
class Param:
    default: float
    low: float
    high: float
    label: Any
    integer: bool = True


def _score(default: float = 50) -> Param:
    return Param(default, 0, 200, _l("score when it fires"))


class Detector:
    name = ""
    label: Any = ""
    help: Any = ""
    params: dict[str, Param] = {}
    holds_only = False  # its score may hold a registration, never make it a rejection

    def check(self, obs: Observation, history: History, p: dict[str, float]) -> Reason | None:
        raise NotImplementedError

    def describe(self, evidence: dict[str, Any]) -> str:
        raise NotImplementedError

    def reason(self, score: float, **evidence: Any) -> Reason:
        return Reason(self.name, float(score), self.describe(evidence), evidence)


class DuplicateDetector(Detector):
    name = "duplicate"
    label = _l("Code registered twice")
    help = _l("A code can earn points once. The database's unique constraint has the final word.")
    params = {"score": _score(100)}

    def check(self, obs, history, p):
        if obs.valid and obs.batch_id is not None and history.is_registered(obs.batch_id, obs.serial):
            return self.reason(p["score"], batch=obs.batch_number, serial=obs.serial)
        return None

    def describe(self, e):
        return _(
            "Code %(serial)s of batch %(batch)s is already registered.", serial=e["serial"], batch=e["batch"]
        )


class GuessingDetector(Detector):
    name = "guessing"
    label = _l("Code guessing")
    help = _l("Refused codes in the last hour, per person, per address and per device.")
    params = {
        "person_max": Param(10, 3, 1000, _l("refused codes per person an hour")),
        "ip_max": Param(30, 3, 10000, _l("refused codes per address an hour")),
        "device_max": Param(15, 3, 1000, _l("refused codes per device an hour")),
        "ip_accounts_max": Param(3, 2, 1000, _l("accounts with refused codes per address an hour")),
        "score": _score(60),
    }

    def check(self, obs, history, p):
        own = 1 if obs.failure is not None else 0
        checks = (
            ("person", "participant", obs.participant_id, "person_max"),
            ("device", "device", obs.device, "device_max"),
            ("ip", "ip", obs.ip, "ip_max"),
        )
        for who, kind, key, limit in checks:
            if key is None or (kind == "ip" and not own):  # strangers share a carrier's address
                continue
            n = history.failed(kind, key, obs.ts) + own
            if n > p[limit]:
                return self.reason(p["score"], who=who, refused=n, limit=int(p[limit]))
        if obs.ip is not None and own:
            accounts = history.failed_accounts("ip", obs.ip, obs.ts) + 1
            if accounts > p["ip_accounts_max"]:
                return self.reason(
                    p["score"], who="spread", accounts=accounts, limit=int(p["ip_accounts_max"])
                )
        return None

    def describe(self, e):
        if e["who"] == "spread":
            return _(
                "Refused codes from %(accounts)d accounts on one address within an hour (limit %(limit)d).",
                accounts=e["accounts"],
                limit=e["limit"],
            )
        places = {
            "person": _("by this person"),
            "device": _("from this device"),
            "ip": _("from this address"),
        }
        return _(
            "%(n)d refused codes %(where)s within an hour (limit %(limit)d).",
            n=e["refused"],
            where=places[e["who"]],
            limit=e["limit"],
        )


class CanaryDetector(Detector):
    name = "canary"
    label = _l("Canary codes")
    help = _l("Codes issued but never printed: registering one proves guessing or a leak.")
    params = {"score": _score(100)}

    def check(self, obs, history, p):
        if obs.is_canary:
            return self.reason(p["score"], batch=obs.batch_number, serial=obs.serial)
        return None

    def describe(self, e):
        return _(
            "Code %(serial)s of batch %(batch)s was never printed: it can only be guessed or leaked.",
            serial=e["serial"],
            batch=e["batch"],
        )


class VelocityDetector(Detector):
    name = "velocity"
    label = _l("Velocity")
    help = _l(
        "Registrations of a shop in a day against its busiest day of the last four weeks and similar "
        "shops' (a delivery is registered at once); a new shop is compared with similar shops."
    )
    params = {
        "shop_day_min": Param(30, 3, 10000, _l("a shop may always register this many a day")),
        "ratio": Param(
            2.5, 1.5, 100, _l("times the busier of its own and similar shops' busy day"), integer=False
        ),
        "person_hour_max": Param(60, 3, 10000, _l("registrations per person an hour")),
        "person_day_max": Param(120, 5, 10000, _l("registrations per person a day")),
        "unknown_day": Param(150, 3, 10000, _l("a day's limit while no shop has any history")),
        "score": _score(50),
    }

    def check(self, obs, history, p):
        if not obs.valid:
            return None
        allowed, usual, peers, basis = allowed_day(
            obs, history, p["ratio"], p["shop_day_min"], p["unknown_day"]
        )
        return self._shop(obs, history, p, allowed, usual, peers, basis) or self._person(
            obs, history, p, allowed
        )

    def _shop(self, obs, history, p, allowed, usual, peers, basis):
        if obs.outlet_id is None or history.count("outlet", obs.outlet_id, obs.ts, DAY) + 1 <= allowed:
            return None
        # Accepted registrations decide; the reviewer sees every one, held ones included.
        first = history.first_ts("outlet_all", obs.outlet_id, obs.ts, DAY) or obs.ts
        return self.reason(
            p["score"],
            who="shop",
            n=history.count("outlet_all", obs.outlet_id, obs.ts, DAY) + 1,
            minutes=_minutes(obs.ts - first),
            usual=round(usual, 1),
            peers=round(peers, 1),
            allowed=int(allowed),
            basis=basis,
        )

    def _person(self, obs, history, p, allowed):
        # One person may register a whole delivery: the shop's allowance is the person's too.
        hour_max, day_max = max(p["person_hour_max"], allowed), max(p["person_day_max"], allowed)
        n_hour = history.count("participant", obs.participant_id, obs.ts, HOUR) + 1
        n_day = history.count("participant", obs.participant_id, obs.ts, DAY) + 1
        if n_hour > hour_max or n_day > day_max:
            window = HOUR if n_hour > hour_max else DAY
            first = history.first_ts("participant_all", obs.participant_id, obs.ts, window) or obs.ts
            return self.reason(
                p["score"],
                who="person",
                n=history.count("participant_all", obs.participant_id, obs.ts, window) + 1,
                minutes=_minutes(obs.ts - first),
                limit=int(hour_max if window == HOUR else day_max),
                per="hour" if window == HOUR else "day",
            )
        return None

    def describe(self, e):
        if e["who"] == "person":
            if e["per"] == "hour":
                return _(
                    "%(n)d codes in %(minutes)d minutes by one person (limit %(limit)d an hour).",
                    n=e["n"],
                    minutes=e["minutes"],
                    limit=e["limit"],
                )
            return _(
                "%(n)d codes in a day by one person (limit %(limit)d a day).", n=e["n"], limit=e["limit"]
            )
        usual = _format_number(e["usual"])
        if "allowed" not in e:  # a reason stored before busy days were compared
            return _(
                "%(n)d codes in %(minutes)d minutes; this shop's usual is %(usual)s a day.",
                n=e["n"],
                minutes=e["minutes"],
                usual=usual,
            )
        if e["basis"] == "own":
            tail = _(
                "this shop's busiest day of the last four weeks was %(usual)s, similar shops' %(peers)s",
                usual=usual,
                peers=_format_number(e["peers"]),
            )
        elif e["basis"] == "peers":
            tail = _("the shop is new; similar shops' busiest day is %(usual)s", usual=usual)
        else:
            tail = _("no shop has a history yet")
        return _(
            "%(n)d codes in %(minutes)d minutes, more than this shop may register in a day (%(allowed)d): "
            "%(tail)s.",
            n=e["n"],
            minutes=e["minutes"],
            allowed=e["allowed"],
            tail=tail,
        )


def allowed_day(
    obs: Observation, history: History, ratio: float, floor: float, unknown: float
) -> tuple[float, float, float, str]:
    """(registrations the shop may make in a day, its busy day, similar shops' busy day, basis).

    A shop may always register `ratio` times the busier of its own busy day and its peers': a
    small shop may get a delivery its peers get; a new shop is judged by its peers alone."""
    day = local_day(obs.ts, history.utc_offset_hours)
    usual, peers, basis = history.usual_day(obs.outlet_id, (obs.outlet_kind, obs.region_id), day)
    if basis == "none":
        return unknown, usual, peers, basis
    return max(floor, ratio * max(usual, peers)), usual, peers, basis


class SequenceDetector(Detector):
    name = "sequence"
    label = _l("Serial sequences")
    help = _l(
        "Runs of neighbouring serials of one batch by one person. A delivery is often one run, "
        "registered at unpacking pace: a run longer than any delivery this shop or similar shops get, "
        "or registered faster than packages can be unpacked, is a roll of labels."
    )
    params = {
        "run_min": Param(150, 3, 10000, _l("a run may always be this long")),
        "run_ratio": Param(
            4, 1, 100, _l("times the biggest delivery day of the shop or similar shops"), integer=False
        ),
        "pace_run": Param(10, 3, 1000, _l("serials in a row to judge the pace by")),
        "unpack_seconds": Param(
            3, 0, 600, _l("seconds a person needs at least to unpack and register a package"), integer=False
        ),
        "score": _score(50),
    }

    def check(self, obs, history, p):
        if not obs.valid or obs.run_length < min(p["pace_run"], p["run_min"]):
            return None
        low, high = sorted((obs.run_start if obs.run_start is not None else obs.serial, obs.serial))
        found = dict(batch=obs.batch_number, first=low, last=high, run=obs.run_length)
        if obs.channel != "photo" and obs.run_length >= p["pace_run"]:
            window = p["pace_run"] * p["unpack_seconds"]
            n = history.count("participant_all", obs.participant_id, obs.ts, window) + 1
            if n >= p["pace_run"]:
                first = history.first_ts("participant_all", obs.participant_id, obs.ts, window) or obs.ts
                return self.reason(p["score"], kind="pace", n=n, seconds=int(obs.ts - first), **found)
        allowed, *_rest = allowed_day(obs, history, p["run_ratio"], p["run_min"], p["run_min"])
        if obs.run_length > allowed:
            return self.reason(p["score"], kind="long", allowed=int(allowed), **found)
        return None

    def describe(self, e):
        run = _(
            "Serials %(first)s-%(last)s of batch %(batch)s in a row (%(run)d codes)",
            first=e["first"],
            last=e["last"],
            batch=e["batch"],
            run=e["run"],
        )
        if e.get("kind") == "pace":
            return run + _(
                ", %(n)d of them within %(seconds)d seconds: faster than packages can be unpacked.",
                n=e["n"],
                seconds=e["seconds"],
            )
        if e.get("kind") == "long":
            return run + _(
                ": longer than any delivery this shop or similar shops get (up to %(allowed)d).",
                allowed=e["allowed"],
            )
        return run + "."


class ScatterDetector(Detector):
    name = "scatter"
    label = _l("Scattered serials")
    help = _l(
        "A shop's stock is a few runs of consecutive serials. One person's last codes of a batch, or "
        "the shop's by all its people, spread over many far-apart places of it were gathered "
        "elsewhere (bought, traded), not unpacked."
    )
    params = {
        "places": Param(
            8, 2, RECENT_RUNS + 1, _l("far-apart places among one person's or shop's last nine codes")
        ),
        "gap": Param(1000, 1, 1e9, _l("serials between two places")),
        "score": _score(50),
    }

    def check(self, obs, history, p):
        if not obs.valid or obs.batch_id is None or obs.serial is None:
            return None
        person = {r[0] for r in history.recent_in_batch(obs.participant_id, obs.batch_id)}
        found = self._places(person | {obs.serial}, p)
        if found is None and obs.outlet_id is not None:
            # Bought codes split over a shop's accounts, a few each, within the hour: the shop's
            # stock is runs too.
            shop = set(history.recent_in_shop_batch(obs.outlet_id, obs.batch_id, obs.ts))
            found = self._places(shop | {obs.serial}, p)
            if found is not None:
                return self.reason(p["score"], batch=obs.batch_number, who="shop", **found)
        if found is None:
            return None
        return self.reason(p["score"], batch=obs.batch_number, **found)

    @staticmethod
    def _places(serials_found: set[int], p: dict[str, float]) -> dict[str, int] | None:
        serials = sorted(serials_found)
        if len(serials) < p["places"]:
            return None
        places = 1 + sum(1 for a, b in itertools.pairwise(serials) if b - a > p["gap"])
        if places < p["places"]:
            return None
        return {"codes": len(serials), "places": places}

    def describe(self, e):
        if e.get("who") == "shop":
            return _(
                "The shop's last %(codes)d codes of batch %(batch)s within an hour, registered by "
                "several of its people, lie in %(places)d far-apart places: not the runs a delivery brings.",
                codes=e["codes"],
                batch=e["batch"],
                places=e["places"],
            )
        return _(
            "This person's last %(codes)d codes of batch %(batch)s lie in %(places)d far-apart places: "
            "not the runs a delivery brings.",
            codes=e["codes"],
            batch=e["batch"],
            places=e["places"],
        )


class GeographyDetector(Detector):
    name = "geography"
    label = _l("Geography")
    help = _l(
        "A batch shipped to one region registered by a shop in a region that is not its neighbour "
        "(distributors serve across a border, a city its oblast above all); a device far from the shop."
    )
    params = {
        "region_score": Param(50, 0, 200, _l("score when the regions differ and are not neighbours")),
        "neighbour_score": Param(5, 0, 200, _l("score when the regions are neighbours")),
        "distance_km": Param(100, 1, 20000, _l("kilometres from the shop")),
        "distance_score": Param(25, 0, 200, _l("score when the device is far")),
    }

    def check(self, obs, history, p):
        if not obs.valid:
            return None
        score, evidence = 0.0, {}
        if (
            obs.batch_region_id is not None
            and obs.region_id is not None
            and obs.batch_region_id != obs.region_id
        ):
            neighbour = history.are_neighbours(obs.batch_region_id, obs.region_id)
            score += p["neighbour_score"] if neighbour else p["region_score"]
            evidence.update(
                shipped_to=list(obs.batch_region_name or (str(obs.batch_region_id),) * 2),
                registered_in=list(obs.region_name or (str(obs.region_id),) * 2),
                neighbour=neighbour,
            )
        if None not in (obs.lat, obs.lon, obs.outlet_lat, obs.outlet_lon):
            km = _km(obs.lat, obs.lon, obs.outlet_lat, obs.outlet_lon)
            if km > p["distance_km"]:
                score += p["distance_score"]
                evidence.update(km=int(km))
        return self.reason(score, **evidence) if evidence else None

    def describe(self, e):
        parts = []
        if "shipped_to" in e:
            text = _(
                "batch shipped to %(shipped)s, registered in %(registered)s",
                shipped=_localized(e["shipped_to"]),
                registered=_localized(e["registered_in"]),
            )
            parts.append(text + (_(" (a neighbouring region)") if e.get("neighbour") else ""))
        if "km" in e:
            parts.append(_("the device was %(km)d km from the shop", km=e["km"]))
        text = "; ".join(parts)
        return text[:1].upper() + text[1:] + "."


class BatchStateDetector(Detector):
    name = "batch_state"
    label = _l("Batch not shipped")
    help = _l("Codes of a batch that was not activated yet: a leak from the printer or the warehouse.")
    params = {"score": _score(100)}

    def check(self, obs, history, p):
        if obs.valid and obs.batch_shipped is False and not obs.is_canary:
            return self.reason(p["score"], batch=obs.batch_number)
        return None

    def describe(self, e):
        return _("Batch %(batch)s was not shipped yet: its codes leaked before delivery.", batch=e["batch"])


class SharedIdentityDetector(Detector):
    name = "shared_identity"
    label = _l("Shared devices and addresses")
    help = _l(
        "One device behind accounts of several shops, or behind more accounts than a shop's staff, "
        "over the last week; a shared network address adds to a shared device only."
    )
    params = {
        "device_accounts": Param(8, 2, 1000, _l("accounts per device (staff may share a shop's phone)")),
        "device_shops": Param(2, 2, 1000, _l("shops per device")),
        "device_score": Param(45, 0, 200, _l("score for a shared device")),
        "ip_accounts": Param(25, 2, 10000, _l("accounts per address")),
        "ip_shops": Param(10, 2, 10000, _l("shops per address")),
        "ip_score": Param(20, 0, 200, _l("score for a shared address")),
        "delivery_accounts": Param(3, 2, 1000, _l("accounts per delivery address or phone (prizes)")),
        "delivery_score": Param(45, 0, 200, _l("score for a shared delivery address or phone")),
    }

    def check(self, obs, history, p):
        if not obs.valid or obs.device is None:
            return None
        # Carriers put thousands of phones behind one address: an address is evidence only
        # when the device is shared too (staff share a shop's phone, so accounts of one shop may).
        accounts, shops = history.accounts("device", obs.device, obs.ts, obs.participant_id, obs.outlet_id)
        if accounts < p["device_accounts"] and shops < p["device_shops"]:
            return None
        score, evidence = p["device_score"], {"device": {"accounts": accounts, "shops": shops}}
        if obs.ip is not None:
            accounts, shops = history.accounts("ip", obs.ip, obs.ts, obs.participant_id, obs.outlet_id)
            if accounts >= p["ip_accounts"] or shops >= p["ip_shops"]:
                score += p["ip_score"]
                evidence["ip"] = {"accounts": accounts, "shops": shops}
        return self.reason(score, **evidence)

    def describe(self, e):
        parts = []
        if "device" in e:
            parts.append(
                _(
                    "one device used by %(accounts)d accounts of %(shops)s this week",
                    accounts=e["device"]["accounts"],
                    shops=_shops(e["device"]["shops"]),
                )
            )
        if "ip" in e:
            parts.append(
                _(
                    "one address used by %(accounts)d accounts of %(shops)s this week",
                    accounts=e["ip"]["accounts"],
                    shops=_shops(e["ip"]["shops"]),
                )
            )
        text = "; ".join(parts)
        return text[:1].upper() + text[1:] + "."


class TimeDetector(Detector):
    name = "time"
    label = _l("Night bursts and inhuman speed")
    help = _l(
        "Bursts at night (local time), codes at machine pace at night, and registrations faster than "
        "a person can type or scan."
    )
    params = {
        "night_start": Param(0, 0, 23, _l("night starts at (hour)")),
        "night_end": Param(5, 0, 23, _l("night ends at (hour)")),
        "night_max": Param(5, 2, 1000, _l("registrations per person in a night hour")),
        "night_pace_run": Param(3, 2, 1000, _l("codes in a row at night to judge the pace by")),
        "night_pace_seconds": Param(
            8, 0, 600, _l("seconds a person needs at least per code at night"), integer=False
        ),
        "night_score": Param(45, 0, 200, _l("score for a night burst")),
        "typed_seconds": Param(4, 0, 120, _l("seconds a person needs to type a code"), integer=False),
        "scan_seconds": Param(0.5, 0, 60, _l("seconds a person needs to scan a code"), integer=False),
        "fast_streak": Param(3, 1, 1000, _l("too fast in a row")),
        "fast_score": Param(45, 0, 200, _l("score for inhuman speed")),
    }

    def check(self, obs, history, p):
        if not obs.valid:
            return None
        # Night by the shop's own clock: Moscow's midnight is morning in Vladivostok.
        offset = history.utc_offset_hours if obs.utc_offset_hours is None else obs.utc_offset_hours
        hour = ((obs.ts + offset * HOUR) % DAY) // HOUR
        start, end = p["night_start"], p["night_end"]
        at_night = start <= hour < end if start <= end else (hour >= start or hour < end)
        if at_night:
            n = history.count("participant", obs.participant_id, obs.ts, HOUR) + 1
            if n >= p["night_max"]:
                return self.reason(p["night_score"], kind="night", n=n, hour=int(hour))
            # A script at night works at machine pace: a few codes in seconds, not a burst of five.
            window = p["night_pace_run"] * p["night_pace_seconds"]
            n = history.count("participant_all", obs.participant_id, obs.ts, window) + 1
            if n >= p["night_pace_run"]:
                first = history.first_ts("participant_all", obs.participant_id, obs.ts, window) or obs.ts
                return self.reason(
                    p["night_score"], kind="night_pace", n=n, seconds=int(obs.ts - first), hour=int(hour)
                )
        if obs.fast_streak >= p["fast_streak"]:
            return self.reason(
                p["fast_score"], kind="fast", n=obs.fast_streak, seconds=obs.extra.get("gap", 0.0)
            )
        return None

    def describe(self, e):
        if e["kind"] == "night_pace":
            return ngettext(
                "%(num)d code within %(seconds)d seconds at night (%(hour)02d:00 local time): "
                "faster than a person registers packages.",
                "%(num)d codes within %(seconds)d seconds at night (%(hour)02d:00 local time): "
                "faster than a person registers packages.",
                e["n"],
                seconds=e["seconds"],
                hour=e["hour"],
            )
        if e["kind"] == "night":
            return ngettext(
                "%(num)d code within an hour at night (%(hour)02d:00 local time).",
                "%(num)d codes within an hour at night (%(hour)02d:00 local time).",
                e["n"],
                hour=e["hour"],
            )
        return ngettext(
            "%(num)d registration faster than a person can type or scan (%(seconds)s s apart).",
            "%(num)d registrations in a row faster than a person can type or scan "
            "(last %(seconds)s s apart).",
            e["n"],
            seconds=_format_number(e["seconds"]),
        )


class LateScanDetector(Detector):
    name = "late_scan"
    label = _l("Sent long after it was read")
    help = _l(
        "A phone's offline queue says when each code was read, and the pace and night rules judge "
        "that time. A code sent long after it was read is held: a forged reading time could spread "
        "a burst over quiet past days."
    )
    holds_only = True  # an honest shop offline for days is checked, not refused
    params = {
        "hours": Param(48, 1, 168, _l("hours between reading and sending that are still ordinary")),
        "score": _score(50),
    }

    def check(self, obs, history, p):
        if obs.valid and obs.sent_ts is not None and obs.sent_ts - obs.ts > p["hours"] * HOUR:
            return self.reason(p["score"], hours=int((obs.sent_ts - obs.ts) // HOUR))
        return None

    def describe(self, e):
        return ngettext(
            "Read %(num)d hour before it was sent: longer than a phone usually waits for a connection.",
            "Read %(num)d hours before it was sent: longer than a phone usually waits for a connection.",
            e["hours"],
        )


DETECTORS: dict[str, Detector] = {
    d.name: d
    for d in (
        DuplicateDetector(),
        GuessingDetector(),
        CanaryDetector(),
        VelocityDetector(),
        SequenceDetector(),
        ScatterDetector(),
        GeographyDetector(),
        BatchStateDetector(),
        SharedIdentityDetector(),
        TimeDetector(),
        LateScanDetector(),
    )
}


def _localized(name: Any) -> str:
    """A region's name, stored as [English, Russian], in the reader's language."""
    if isinstance(name, (list, tuple)):
        locale = get_locale()
        return name[1] if locale is not None and locale.language == "ru" else name[0]
    return str(name)


def _shops(n: int) -> str:
    return ngettext("%(num)d shop", "%(num)d shops", n)


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60.0))


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))
