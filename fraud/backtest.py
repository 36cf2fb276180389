""" "What would this rule have flagged?": one detector replayed over stored observations.

The stored attempts stream from the database in time order into a
`MemoryHistory`, keeping the decisions they really got, while only the rule
under test runs with the thresholds the admin is trying out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from codes.models import Batch, BatchStatus, Registration
from fraud.history import MemoryHistory, Observation
from fraud.models import Decision, FraudObservation
from fraud.services import Engine, FraudConfig
from partner_club.database import utcnow
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region


@dataclass
class Flagged:
    observation_id: int
    at: datetime
    participant_id: int
    decision: str  # what really happened
    message: str


@dataclass
class BacktestResult:
    detector: str
    days: int
    examined: int = 0
    flagged: int = 0
    newly: int = 0  # flagged but really accepted: what switching the rule on would change
    samples: list[Flagged] = field(default_factory=list)


def backtest(
    session: Session,
    config: FraudConfig,
    detector: str,
    params: dict[str, float],
    *,
    days: int = 30,
    now: datetime | None = None,
    samples: int = 25,
) -> BacktestResult:
    now = now or utcnow()
    result = BacktestResult(detector, days)
    engine = Engine(
        config, MemoryHistory(config.utc_offset_hours), only=[detector], params={detector: params}
    )
    outlets = {o.id: o for o in session.execute(select(Outlet.id, Outlet.kind, Outlet.lat, Outlet.lon)).all()}
    regions = {
        i: (en, ru) for i, en, ru in session.execute(select(Region.id, Region.name_en, Region.name_ru))
    }
    batches = {
        b.id: b
        for b in session.execute(
            select(Batch.id, Batch.number, Batch.region_id, Batch.status, Batch.is_canary, Batch.activated_at)
        ).all()
    }
    # A registration's own time is when it was sent: later than the reading for a phone's queue.
    rows = session.execute(
        select(FraudObservation, Registration.created_at)
        .outerjoin(Registration, Registration.id == FraudObservation.registration_id)
        .where(FraudObservation.at >= now - timedelta(days=days), FraudObservation.at <= now)
        .order_by(FraudObservation.at, FraudObservation.id)
        .execution_options(yield_per=5000)
    )
    for row, sent_at in rows:
        obs = _observation(row, outlets.get(row.outlet_id), regions, batches.get(row.batch_id))
        obs.sent_ts = sent_at.timestamp() if sent_at is not None else None
        assessment = engine.assess(obs)
        obs.decision = row.decision  # the history keeps what really happened
        engine.observe(obs)
        result.examined += 1
        hits = [r for r in assessment.reasons if r.detector == detector]
        if hits:
            result.flagged += 1
            result.newly += row.decision == Decision.ACCEPT.value
            if len(result.samples) < samples:
                result.samples.append(
                    Flagged(row.id, row.at, row.participant_id, row.decision, hits[0].message)
                )
    return result


def _observation(row: FraudObservation, outlet, regions: dict[int, tuple[str, str]], batch) -> Observation:
    obs = Observation(
        ts=row.at.timestamp(),
        participant_id=row.participant_id,
        outlet_id=row.outlet_id,
        outlet_kind=outlet.kind if outlet else None,
        outlet_lat=outlet.lat if outlet else None,
        outlet_lon=outlet.lon if outlet else None,
        region_id=row.region_id,
        region_name=regions.get(row.region_id),
        channel=row.channel,
        ip=row.ip,
        device=row.device,
        lat=row.lat,
        lon=row.lon,
        code=row.code,
        failure=row.failure,
        batch_id=row.batch_id,
        serial=row.serial,
    )
    if batch is not None:
        obs.batch_number, obs.batch_region_id = batch.number, batch.region_id
        obs.batch_region_name = regions.get(batch.region_id)
        obs.is_canary = batch.is_canary
        obs.batch_shipped = batch.status == BatchStatus.ACTIVATED.value and (
            batch.activated_at is None or batch.activated_at <= row.at
        )
    return obs
