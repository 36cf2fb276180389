"""Codes' card on the home page: the owner's shop over the last seven days."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from codes.models import Registration, RegistrationStatus
from partner_club.accounts.models import Role, User
from partner_club.database import utcnow
from partner_club.home import HomeCard


def shop_week(session: Session, user: User) -> dict[str, Any] | None:
    if user.outlet_id is None:
        return None
    since = utcnow() - timedelta(days=7)
    codes, points, people = session.execute(
        select(
            func.count(Registration.id),
            func.coalesce(func.sum(Registration.points), 0),
            func.count(func.distinct(Registration.participant_id)),
        ).where(
            Registration.outlet_id == user.outlet_id,
            Registration.created_at >= since,
            Registration.status != RegistrationStatus.REJECTED.value,
        )
    ).one()
    return {"shop": user.outlet, "codes": codes, "points": int(points), "people": people}


CARDS = [HomeCard("shop_week", frozenset({Role.OWNER}), shop_week, "codes/home_week.html", 25)]
