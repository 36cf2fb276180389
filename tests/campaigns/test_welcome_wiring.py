"""Welcome points reach a person when their account becomes active, once."""

from __future__ import annotations

from sqlalchemy import select

from partner_club.accounts.models import Role, UserStatus
from partner_club.accounts.signup import approve_seller
from partner_club.campaigns.bonuses import BonusRule, store_rules
from partner_club.ledger.models import LedgerEntry
from partner_club.ledger.services import balance_of


def test_an_approved_seller_gets_the_welcome_points_once(db, make):
    owner = make.user(Role.OWNER)
    seller = make.user(Role.SELLER, outlet=owner.outlet, status=UserStatus.PENDING.value)
    store_rules(db.session, welcome=BonusRule(points=100), referral=BonusRule(), actor_id=None)
    approve_seller(db.session, owner, seller)
    approve_seller(db.session, owner, seller)  # approved again (after a move): no second welcome
    db.session.flush()
    assert balance_of(db.session, seller).active == 100
    entry = db.session.scalars(select(LedgerEntry).where(LedgerEntry.cause_type == "welcome")).one()
    assert entry.breakdown == [{"source": "welcome", "points": 100}]


def test_no_welcome_points_while_the_rule_is_off(db, make):
    owner = make.user(Role.OWNER)
    seller = make.user(Role.SELLER, outlet=owner.outlet, status=UserStatus.PENDING.value)
    approve_seller(db.session, owner, seller)
    db.session.flush()
    assert balance_of(db.session, seller).active == 0
