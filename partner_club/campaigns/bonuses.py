"""One-off bonuses: welcome points when a person's account is approved, and a referral bonus
for the owner who brought a new shop, once that shop's first N registrations are accepted.

Each has a rule the admin sets (a setting; no rule or 0 points: no bonus). The services
answer a breakdown item (`{"source": "welcome"|"referral", "points"}`) for the caller to
credit through the ledger, or None; a unique (kind, subject) row makes each bonus once only,
also under concurrency (`INSERT ... ON CONFLICT DO NOTHING` decides).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from partner_club.campaigns.models import BonusGrant, BonusKind
from partner_club.database import utcnow
from partner_club.errors import Invalid
from partner_club.settings_store import get_setting, put_setting

WELCOME_KEY = "campaigns.welcome_rule"
REFERRAL_KEY = "campaigns.referral_rule"


@dataclass(frozen=True)
class BonusRule:
    points: int = 0
    after: int = 1  # referral only: accepted registrations of the new shop before it pays

    @property
    def enabled(self) -> bool:
        return self.points > 0


def welcome_rule(session: Session) -> BonusRule:
    return BonusRule(**(get_setting(session, WELCOME_KEY, None) or {}))


def referral_rule(session: Session) -> BonusRule:
    return BonusRule(**(get_setting(session, REFERRAL_KEY, None) or {}))


def validate_rule(points: Any, after: Any = 1) -> BonusRule:
    try:
        points, after = int(points or 0), int(after or 1)
    except (TypeError, ValueError):
        raise Invalid(_("Points and N must be whole numbers."), code="bad_bonus_rule") from None
    if points < 0 or points > 1_000_000 or after < 1:
        raise Invalid(_("Points must be from 0 to 1,000,000 and N at least 1."), code="bad_bonus_rule")
    return BonusRule(points=points, after=after)


def store_rules(session: Session, *, welcome: BonusRule, referral: BonusRule, actor_id: int | None) -> None:
    put_setting(session, WELCOME_KEY, asdict(welcome), actor_id=actor_id)
    put_setting(session, REFERRAL_KEY, asdict(referral), actor_id=actor_id)


def _grant(session: Session, kind: BonusKind, subject: str, person_id: int, points: int) -> bool:
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(BonusGrant.__table__)
        .values(kind=kind.value, subject=subject, person_id=person_id, points=points, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["kind", "subject"])
        .returning(BonusGrant.__table__.c.id)
    )
    return session.execute(statement).scalar() is not None


def welcome_points(session: Session, *, person_id: int) -> dict[str, Any] | None:
    """Call when a person's account is approved; credit the answer (once per person)."""
    rule = welcome_rule(session)
    if not rule.enabled or not _grant(
        session, BonusKind.WELCOME, f"person:{person_id}", person_id, rule.points
    ):
        return None
    return {"source": "welcome", "points": rule.points}


def referral_points(
    session: Session, *, outlet_id: int, referrer_id: int | None, accepted_registrations: int
) -> dict[str, Any] | None:
    """Call after a registration of `outlet_id` is accepted, with the shop's accepted count and
    the owner who brought it; answers the referrer's bonus once the count reaches N (once)."""
    rule = referral_rule(session)
    if referrer_id is None or not rule.enabled or accepted_registrations < rule.after:
        return None
    if not _grant(session, BonusKind.REFERRAL, f"outlet:{outlet_id}", referrer_id, rule.points):
        return None
    return {"source": "referral", "points": rule.points, "outlet": outlet_id}
