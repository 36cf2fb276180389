"""Registration activity for the mailings' segments and call lists (a hook the core offers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from codes.models import Registration, RegistrationStatus
from partner_club.mailings.segments import Activity, provide_activity

COUNTED = Registration.status != RegistrationStatus.REJECTED.value


def registered_since(moment: datetime) -> Select[Any]:
    return select(Registration.participant_id).where(Registration.created_at >= moment, COUNTED)


def last_registrations(session: Session, user_ids: list[int]) -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    for start in range(0, len(user_ids), 1000):
        chunk = user_ids[start : start + 1000]
        found.update(
            (int(user_id), at)
            for user_id, at in session.execute(
                select(Registration.participant_id, func.max(Registration.created_at))
                .where(Registration.participant_id.in_(chunk), COUNTED)
                .group_by(Registration.participant_id)
            )
        )
    return found


provide_activity(Activity(registered_since=registered_since, last_registrations=last_registrations))
