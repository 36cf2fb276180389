"""Fraud decisions: settings, the engine that runs the detectors, live checks.

The engine is the same for a live registration (database history) and for
replay or backtests (memory history): annotate the observation from history
(runs of serials, typing speed), run the enabled detectors, add the scores,
compare the sum with the admin's hold and reject scores.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, event, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

# The club's review time lives with the registration's answer (codes), which promises it.
from codes.services import (  # noqa: F401 - fraud's review time, read here by the queue and CLI
    DEFAULT_REVIEW_SLA_HOURS,
    REVIEW_SLA_KEY,
    held_message,
    review_sla_hours,
)
from fraud.detectors import DETECTORS, Detector
from fraud.history import History, Observation
from fraud.live_history import DbHistory, accepted_stored, region_utc_offset
from fraud.models import CaseStatus, FraudObservation, ReviewCase
from partner_club.accounts.models import User
from partner_club.audit.services import record
from partner_club.errors import Invalid
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region
from partner_club.settings_store import get_setting, put_setting
from partner_club.signals import ACCEPT, HOLD, REJECT, Assessment, Reason, RegistrationAttempt

log = logging.getLogger(__name__)
SETTING_KEY = "fraud.config"
DEFAULT_HOLD, DEFAULT_REJECT = 40.0, 90.0
SHIPPED_STATUSES = frozenset({"activated"})


@dataclass
class FraudConfig:
    hold_score: float = DEFAULT_HOLD
    reject_score: float = DEFAULT_REJECT
    utc_offset_hours: float = 3.0
    enabled: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(DETECTORS, True))
    params: dict[str, dict[str, float]] = field(
        default_factory=lambda: {
            name: {key: p.default for key, p in d.params.items()} for name, d in DETECTORS.items()
        }
    )

    def as_json(self) -> dict[str, Any]:
        return {
            "hold_score": self.hold_score,
            "reject_score": self.reject_score,
            "utc_offset_hours": self.utc_offset_hours,
            "detectors": {
                name: {"enabled": self.enabled[name], "params": self.params[name]} for name in DETECTORS
            },
        }


def _number(
    raw: Any, label: str, low: float, high: float, integer: bool, problems: list[str]
) -> float | None:
    try:
        value = float(str(raw).replace(",", ".").strip())
    except (TypeError, ValueError):
        problems.append(_("%(label)s: enter a number.", label=label))
        return None
    if not low <= value <= high:
        problems.append(
            _(
                "%(label)s: %(value)s is outside the sane range %(low)s-%(high)s.",
                label=label,
                value=raw,
                low=_plain(low),
                high=_plain(high),
            )
        )
        return None
    if integer and not value.is_integer():
        problems.append(_("%(label)s: enter a whole number.", label=label))
        return None
    return value


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def validate_config(raw: dict[str, Any]) -> FraudConfig:
    """A complete config from a partial one, or `Invalid` listing every problem."""
    config = FraudConfig()
    problems: list[str] = []
    hold = _number(raw.get("hold_score", DEFAULT_HOLD), _("Hold score"), 1, 1000, False, problems)
    reject = _number(raw.get("reject_score", DEFAULT_REJECT), _("Reject score"), 1, 1000, False, problems)
    offset = _number(
        raw.get("utc_offset_hours", 3), _("Local time offset from UTC"), -12, 14, False, problems
    )
    if hold is not None and reject is not None and reject <= hold:
        problems.append(_("The reject score must be higher than the hold score."))
    for name, settings in (raw.get("detectors") or {}).items():
        detector = DETECTORS.get(name)
        if detector is None:
            problems.append(_("There is no detector called %(name)s.", name=name))
            continue
        config.enabled[name] = bool(settings.get("enabled", True))
        for key, value in (settings.get("params") or {}).items():
            param = detector.params.get(key)
            if param is None:
                continue
            label = f"{detector.label}: {param.label}"
            number = _number(value, label, param.low, param.high, param.integer, problems)
            if number is not None:
                config.params[name][key] = number
    if problems:
        raise Invalid(" ".join(problems), code="fraud_settings_invalid", problems=problems)
    if hold is None or reject is None or offset is None:
        raise AssertionError("_number answers None only with a problem listed")
    config.hold_score, config.reject_score, config.utc_offset_hours = hold, reject, offset
    return config


def load_config(session: Session) -> FraudConfig:
    stored = get_setting(session, SETTING_KEY, None)
    if not stored:
        return FraudConfig()
    try:
        return validate_config(stored)
    except Invalid:
        return FraudConfig()


def save_config(session: Session, raw: dict[str, Any], *, actor: User | None) -> FraudConfig:
    config = validate_config(raw)
    put_setting(session, SETTING_KEY, config.as_json(), actor_id=actor.id if actor else None)
    record(session, actor, "fraud.settings", None, **config.as_json())
    return config


class Engine:
    """Runs the enabled detectors over one observation at a time."""

    def __init__(
        self,
        config: FraudConfig,
        history: History,
        *,
        only: Iterable[str] | None = None,
        params: dict[str, dict[str, float]] | None = None,
    ) -> None:
        self.config = config
        self.history = history
        history.utc_offset_hours = config.utc_offset_hours
        names = list(only) if only is not None else [n for n in DETECTORS if config.enabled.get(n)]
        merged = {n: dict(config.params[n], **(params or {}).get(n, {})) for n in DETECTORS}
        self.detectors: list[tuple[Detector, dict[str, float]]] = [(DETECTORS[n], merged[n]) for n in names]
        self.time_params = merged["time"]

    def annotate(self, obs: Observation) -> None:
        """Derived facts the detectors share: this person's run of serials and pace."""
        if not obs.valid:
            return
        history = self.history
        if obs.batch_id is not None and obs.serial is not None:
            # A roll is read in order: the code right after the end of a recent run extends it.
            runs = [
                r
                for r in history.recent_in_batch(obs.participant_id, obs.batch_id)
                if 1 <= obs.serial - r[0] <= 2
            ]
            if runs:
                best = max(runs, key=lambda r: r[1])
                obs.run_length, obs.run_start = best[1] + 1, best[2]
            else:
                obs.run_length, obs.run_start = 1, obs.serial
        previous = history.last_of(obs.participant_id)
        # The codes of one photo land in the same instant by nature: pace says nothing there.
        if previous is not None and obs.channel != "photo":
            gap = obs.ts - previous[0]
            slowest = (
                self.time_params["typed_seconds"]
                if obs.channel == "typed"
                else self.time_params["scan_seconds"]
            )
            obs.fast_streak = previous[1] + 1 if gap < slowest else 0
            obs.extra["gap"] = round(gap, 1)

    def assess(self, obs: Observation) -> Assessment:
        self.history.expect(obs)
        self.annotate(obs)
        reasons: list[Reason] = []
        if obs.failure is not None:
            reasons.append(
                Reason("code", self.config.reject_score, describe_failure(obs.failure), {"why": obs.failure})
            )
        for detector, params in self.detectors:
            reason = detector.check(obs, self.history, params)
            if reason is not None and reason.score > 0:
                reasons.append(reason)
        score = sum(r.score for r in reasons)
        # A rule that only asks for a person's look (late_scan) never tips a registration into
        # a rejection: the other reasons must reach the reject score on their own.
        firm = sum(r.score for r in reasons if not getattr(DETECTORS.get(r.detector), "holds_only", False))
        if firm >= self.config.reject_score:
            decision = REJECT
        elif score >= self.config.hold_score:
            decision = HOLD
        else:
            decision = ACCEPT
        obs.decision = decision
        return Assessment(decision, float(score), reasons)

    def observe(self, obs: Observation) -> None:
        self.history.add(obs)


FAILURES = {
    "empty": _l("nothing was typed"),
    "bad_symbols": _l("characters that codes do not use"),
    "too_short": _l("too short"),
    "too_long": _l("too long"),
    "bad_check_symbol": _l("a typo caught by the check symbol"),
    "not_a_club_link": _l("not a club link"),
    "unknown_batch": _l("no such batch"),
    "serial_out_of_range": _l("a serial the batch does not have"),
    "batch_voided": _l("a withdrawn code"),
}


def describe_failure(why: str) -> str:
    return _("The code is not valid: %(why)s.", why=FAILURES.get(why, why))


def reasons_json(reasons: list[Reason]) -> list[dict[str, Any]]:
    return [
        {"detector": r.detector, "score": r.score, "message": r.message, "evidence": r.evidence}
        for r in reasons
    ]


def describe_reason(reason: dict[str, Any]) -> str:
    """A stored reason in the reader's language (messages are stored in the writer's)."""
    detector = DETECTORS.get(reason.get("detector", ""))
    if detector is None:
        if reason.get("detector") == "code":
            return describe_failure((reason.get("evidence") or {}).get("why", ""))
        return reason.get("message", "")
    try:
        return detector.describe(reason.get("evidence") or {})
    except (KeyError, TypeError, ValueError):
        return reason.get("message", "")


# --- live registrations -------------------------------------------------------

# The admin's settings parsed once per stored value: every registration reads them.
_VALIDATED: dict[str, tuple[Any, FraudConfig]] = {}
_REGION_NAMES = select(Region.id, Region.name_en, Region.name_ru).where(
    Region.id.in_(bindparam("ids", expanding=True))
)
_OBSERVATIONS = FraudObservation.__table__
_INSERT_OBSERVATION = insert(_OBSERVATIONS)
_INSERT_HELD = insert(_OBSERVATIONS).returning(_OBSERVATIONS.c.id)
_INSERT_CASE = insert(ReviewCase.__table__)


def _live_config(session: Session) -> FraudConfig:
    stored = get_setting(session, SETTING_KEY, None)
    kept = _VALIDATED.get(SETTING_KEY)
    if kept is None or kept[0] != stored:
        kept = _VALIDATED[SETTING_KEY] = (copy.deepcopy(stored), load_config(session))
    return kept[1]


def observation_from_attempt(session: Session, attempt: RegistrationAttempt) -> Observation:
    outlet = attempt.shop or (session.get(Outlet, attempt.outlet_id) if attempt.outlet_id else None)
    shipped = None if attempt.batch_status is None else attempt.batch_status in SHIPPED_STATUSES
    obs = Observation(
        # The pace and night rules judge when the code was read, not when a queue sent it.
        ts=(attempt.scanned_at or attempt.at).timestamp(),
        participant_id=attempt.participant_id,
        outlet_id=attempt.outlet_id,
        outlet_kind=outlet.kind if outlet else None,
        outlet_lat=outlet.lat if outlet else None,
        outlet_lon=outlet.lon if outlet else None,
        region_id=attempt.region_id,
        channel=attempt.channel,
        ip=attempt.ip,
        device=attempt.device,
        lat=attempt.lat,
        lon=attempt.lon,
        code=attempt.code,
        failure=attempt.failure,
        batch_id=attempt.batch_id,
        batch_number=attempt.batch_number,
        serial=attempt.serial,
        batch_region_id=attempt.batch_region_id,
        batch_shipped=shipped,
        is_canary=attempt.is_canary,
        sent_ts=attempt.at.timestamp() if attempt.scanned_at is not None else None,
    )
    obs.utc_offset_hours = region_utc_offset(session, obs.region_id, obs.ts)
    if obs.region_id is not None and obs.batch_region_id is not None and obs.region_id != obs.batch_region_id:
        # Only the geography rule names regions, and only when they differ: a held attempt, mostly.
        names = {
            i: (en, ru)
            for i, en, ru in session.execute(_REGION_NAMES, {"ids": [obs.region_id, obs.batch_region_id]})
        }
        obs.region_name, obs.batch_region_name = names.get(obs.region_id), names.get(obs.batch_region_id)
    return obs


def _observation_row(obs: Observation, assessment: Assessment, registration_id: int | None) -> dict[str, Any]:
    return dict(
        at=obs.at,
        participant_id=obs.participant_id,
        outlet_id=obs.outlet_id,
        region_id=obs.region_id,
        channel=obs.channel,
        ip=obs.ip,
        device=obs.device,
        lat=obs.lat,
        lon=obs.lon,
        code=obs.code,
        failure=obs.failure,
        batch_id=obs.batch_id,
        serial=obs.serial,
        run_length=obs.run_length,
        run_start=obs.run_start,
        fast_streak=obs.fast_streak,
        registration_id=registration_id,
        decision=assessment.decision,
        score=assessment.score,
        reasons=reasons_json(assessment.reasons) or None,
    )


def store_observation(
    session: Session, obs: Observation, assessment: Assessment, *, registration_id: int | None = None
) -> None:
    """The observation row and, for a hold, its open case."""
    row = _observation_row(obs, assessment, registration_id)
    if assessment.decision != HOLD:
        session.connection().execute(_INSERT_OBSERVATION, row)
        if assessment.decision == ACCEPT and obs.outlet_id is not None:
            accepted_stored(session, obs.outlet_id, obs.ts)
        return
    observation_id = session.execute(_INSERT_HELD, row).scalar_one()
    session.execute(
        _INSERT_CASE,
        dict(
            observation_id=observation_id,
            registration_id=registration_id,
            participant_id=obs.participant_id,
            outlet_id=obs.outlet_id,
            score=assessment.score,
            status=CaseStatus.OPEN.value,
        ),
    )


def assess_attempt(session: Session, attempt: RegistrationAttempt) -> Assessment:
    """The live answer to `registration_checks`: decide, and keep a refusal (a refused code, or
    a rejected attempt) at once; an accepted or held attempt is kept by `record_registration`
    once codes has stored its registration, from the observation the assessment carries."""
    config = _live_config(session)
    obs = observation_from_attempt(session, attempt)
    assessment = Engine(config, DbHistory(session, config.utc_offset_hours)).assess(obs)
    if assessment.decision == REJECT:
        row = _observation_row(obs, assessment, None)
        session.connection().execute(_INSERT_OBSERVATION, row)
        # A rejection rolls the request back; the decision must outlive it (see _keep_refusals).
        session.info.setdefault(_REFUSED, []).append(row)
    else:
        assessment.observation = obs
    return assessment


def record_registration(session: Session, registration_id: int, assessment: Assessment | None) -> None:
    """Once codes stored an assessed registration, its observation (and a held one's case)
    points at it. Registrations stored without an assessment (demo data, imports) have none;
    an attempt that lost its code to a parallel request is not stored and leaves none."""
    if assessment is None or assessment.observation is None:
        return
    store_observation(session, assessment.observation, assessment, registration_id=registration_id)


_REFUSED = "fraud.refused_observations"


@event.listens_for(Session, "after_commit")
def _refusals_committed(session: Session) -> None:
    session.info.pop(_REFUSED, None)


@event.listens_for(Session, "after_rollback")
def _keep_refusals(session: Session) -> None:
    """Stores rejected attempts again after their request rolled back, in a short transaction
    of their own (the rolled-back one no longer holds SQLite's write lock)."""
    rows = session.info.pop(_REFUSED, None)
    if not rows:
        return
    try:
        with session.get_bind().engine.begin() as connection:
            connection.execute(_INSERT_OBSERVATION, rows)
    except SQLAlchemyError:
        log.exception("fraud: %d refused attempts could not be kept", len(rows))
