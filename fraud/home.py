"""Fraud's card on the home page: open review cases the person may decide."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fraud.review import REVIEWER_ROLES, cases_query
from partner_club.accounts.models import User
from partner_club.home import HomeCard


def open_cases(session: Session, user: User) -> dict[str, Any]:
    count = session.scalar(select(func.count()).select_from(cases_query(user).order_by(None).subquery()))
    return {"count": count or 0}


CARDS = [HomeCard("cases", REVIEWER_ROLES, open_cases, "fraud/home_cases.html", 30)]
