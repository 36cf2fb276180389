"""Network addresses as reviewers see them: shared or not, never the address itself."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fraud.models import FraudObservation

SHARED_WINDOW = timedelta(days=30)


def other_accounts_on_address(session: Session, observation: FraudObservation) -> int | None:
    """How many other participants used this attempt's address in the 30 days before it.

    None when the attempt has no address. Reps see this number, not the address: a
    person's address is personal data, and whether it is shared is what the review needs.
    """
    if not observation.ip:
        return None
    return session.scalar(
        select(func.count(func.distinct(FraudObservation.participant_id))).where(
            FraudObservation.ip == observation.ip,
            FraudObservation.participant_id != observation.participant_id,
            FraudObservation.at >= observation.at - SHARED_WINDOW,
            FraudObservation.at <= observation.at,
        )
    )
