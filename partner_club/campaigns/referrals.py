"""The referral bonus: an owner who brought a new shop in (through their referral link) earns
the admin's points once that shop's first N registrations are accepted.

The registration calls `pay_referral` after a registration of a shop is accepted, at once or
later in review; rejected and held ones do not count. The shop's row is locked
(`FOR NO KEY UPDATE`, which does not wait for the shop's registrations' own key-share locks)
before its accepted registrations are counted, so parallel registrations count each other;
the unique `bonus_grants (kind, subject)` row makes the bonus once only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from partner_club.accounts.models import User
from partner_club.campaigns.bonuses import referral_points, referral_rule
from partner_club.campaigns.models import BonusGrant, BonusKind
from partner_club.ledger.credits import CreditKind, Source, credit
from partner_club.ledger.queries import CAUSE_DETAILS
from partner_club.outlets.models import Outlet

CAUSE = "referral"  # ledger entries: cause_id is the shop brought in


def pay_referral(session: Session, outlet_id: int | None, count_accepted: Callable[[], int]) -> int:
    """Credits the referring owner when the shop's accepted registrations reach N (once);
    answers the points credited. `count_accepted` counts the shop's accepted registrations."""
    if outlet_id is None:
        return 0
    rule = referral_rule(session)
    if not rule.enabled:
        return 0  # no rule: no query on the registration's path
    referrer_id = session.scalar(select(Outlet.referred_by_id).where(Outlet.id == outlet_id))
    if referrer_id is None or _granted(session, outlet_id):
        return 0
    session.execute(select(Outlet.id).where(Outlet.id == outlet_id).with_for_update(key_share=True))
    referrer = session.get(User, referrer_id)
    if referrer is None or referrer.is_blocked:
        return 0
    item = referral_points(
        session, outlet_id=outlet_id, referrer_id=referrer_id, accepted_registrations=count_accepted()
    )
    if item is None:
        return 0
    line = Source(source="referral", points=item["points"])
    credit(
        session,
        referrer,
        item["points"],
        cause_type=CAUSE,
        cause_id=outlet_id,
        kind=CreditKind.ACTION,
        breakdown=[line],
    )
    return item["points"]


def _granted(session: Session, outlet_id: int) -> bool:
    return (
        session.scalar(
            select(BonusGrant.id).where(
                BonusGrant.kind == BonusKind.REFERRAL.value, BonusGrant.subject == f"outlet:{outlet_id}"
            )
        )
        is not None
    )


@dataclass(frozen=True)
class Brought:
    outlet: Outlet
    paid: int | None  # the bonus paid, or None while the shop has not reached N


def shops_brought(session: Session, owner: User) -> list[Brought]:
    """The shops that joined through the owner's referral links, newest first."""
    outlets = list(
        session.scalars(select(Outlet).where(Outlet.referred_by_id == owner.id).order_by(Outlet.id.desc()))
    )
    grants = {
        g.subject: g.points
        for g in session.scalars(
            select(BonusGrant).where(
                BonusGrant.kind == BonusKind.REFERRAL.value,
                BonusGrant.subject.in_([f"outlet:{o.id}" for o in outlets]),
            )
        )
    }
    return [Brought(o, grants.get(f"outlet:{o.id}")) for o in outlets]


def _details(session: Session, cause_ids: list[str]) -> dict[str, str]:
    """The history's line for a referral bonus: which shop earned it."""
    ids = [int(i) for i in cause_ids if i.isdigit()]
    rows = session.execute(select(Outlet.id, Outlet.name).where(Outlet.id.in_(ids))).all()
    return {
        str(outlet_id): _("referral bonus: the shop «%(name)s» you brought in", name=name)
        for outlet_id, name in rows
    }


CAUSE_DETAILS[CAUSE] = _details
