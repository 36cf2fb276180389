"""The points ledger's services, straight against the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from partner_club.accounts.models import Role
from partner_club.audit.models import AuditEntry
from partner_club.errors import Conflict, Invalid
from partner_club.ledger import credits
from partner_club.ledger import services as ledger
from partner_club.ledger.models import Account, LedgerEntry, PointLot
from partner_club.ledger.policy import (
    ExpiryPolicy,
    RegistrationRule,
    store_registration_rule,
    validate_expiry_policy,
)
from partner_club.ledger.reconcile import disagreements

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def seller(make):
    return make.user(Role.SELLER)


@pytest.fixture
def admin(make):
    return make.user(Role.ADMIN)


def lots_of(session, account):
    return session.scalars(
        select(PointLot).where(PointLot.account_id == account.id).order_by(PointLot.id)
    ).all()


def test_accounts_are_created_once(db, seller):
    first = ledger.account_for_user(db.session, seller)
    assert ledger.account_for_user(db.session, seller).id == first.id
    shop = ledger.account_for_outlet(db.session, seller.outlet)
    assert shop.id != first.id and shop.kind == "outlet"
    assert ledger.balance_of(db.session, seller) == ledger.Balance(0, 0)


def test_accrue_and_spend_oldest_first(db, seller):
    account = ledger.account_for_user(db.session, seller)
    ledger.accrue(db.session, account, 100, cause_type="registration", cause_id=1, at=T0)
    ledger.accrue(
        db.session, account, 50, cause_type="action", cause_id=7, kind="action", at=T0 + timedelta(days=5)
    )
    entry = ledger.spend(db.session, account, 120, cause_type="order", cause_id=3)
    assert entry.amount == -120 and entry.kind == "redemption" and entry.cause_id == "3"
    assert ledger.balance_of(db.session, seller) == ledger.Balance(30, 0)
    assert [lot.remaining for lot in lots_of(db.session, account)] == [0, 30]
    assert disagreements(db.session) == []


def test_spend_more_than_the_balance_is_refused_and_changes_nothing(db, seller):
    account = ledger.account_for_user(db.session, seller)
    ledger.accrue(db.session, account, 10, cause_type="registration", cause_id=1)
    with pytest.raises(ledger.InsufficientPoints) as refused:
        ledger.spend(db.session, account, 11, cause_type="order", cause_id=1)
    assert refused.value.code == "insufficient_points" and refused.value.status == 409
    assert ledger.balance_of(db.session, seller).active == 10
    assert db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "redemption")) is None


@pytest.mark.parametrize("amount", [0, -5, 1.5, "10", True])
def test_bad_amounts_are_invalid(db, seller, amount):
    account = ledger.account_for_user(db.session, seller)
    with pytest.raises(Invalid):
        ledger.accrue(db.session, account, amount, cause_type="registration", cause_id=1)


def test_the_database_refuses_a_negative_balance(db, seller):
    account = ledger.account_for_user(db.session, seller)
    db.session.flush()
    account.active = -1
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_pending_points_are_confirmed_into_active(db, seller):
    account = ledger.account_for_user(db.session, seller)
    ledger.hold(db.session, account, 40, cause_type="registration", cause_id=9)
    assert ledger.balance_of(db.session, seller) == ledger.Balance(0, 40)
    with pytest.raises(ledger.InsufficientPoints):
        ledger.spend(db.session, account, 1, cause_type="order", cause_id=1)
    entries = ledger.confirm(db.session, cause_type="registration", cause_id=9)
    assert sorted((e.bucket, e.amount) for e in entries) == [("active", 40), ("pending", -40)]
    assert ledger.balance_of(db.session, seller) == ledger.Balance(40, 0)
    with pytest.raises(Conflict) as twice:
        ledger.confirm(db.session, cause_type="registration", cause_id=9)
    assert twice.value.code == "already_settled"
    assert disagreements(db.session) == []


def test_pending_points_are_rejected(db, seller):
    account = ledger.account_for_user(db.session, seller)
    ledger.hold(db.session, account, 40, cause_type="registration", cause_id=9)
    ledger.hold(db.session, account, 5, cause_type="registration", cause_id=10)
    [entry] = ledger.reject(db.session, cause_type="registration", cause_id=9, reason="duplicate photo")
    assert (entry.kind, entry.bucket, entry.amount, entry.reason) == (
        "rejection",
        "pending",
        -40,
        "duplicate photo",
    )
    assert ledger.balance_of(db.session, seller) == ledger.Balance(0, 5)
    with pytest.raises(Conflict):
        ledger.confirm(db.session, cause_type="registration", cause_id=9)
    assert ledger.confirm(db.session, cause_type="registration", cause_id="nothing-there") == []
    assert disagreements(db.session) == []


def test_registration_points_follow_the_shops_rule(db, make):
    owner = make.user(Role.OWNER)
    seller = make.user(Role.SELLER, outlet=owner.outlet)
    entries = credits.credit(
        db.session, seller, 10, kind="accrual", by_shop_rule=True, cause_type="registration", cause_id=1
    )
    assert [(e.holder, e.amount) for e in entries] == [("person", 10)]

    store_registration_rule(
        db.session, RegistrationRule("split", 70), outlet_id=owner.outlet_id, actor_id=owner.id
    )
    entries = credits.credit(
        db.session, seller, 15, kind="hold", by_shop_rule=True, cause_type="registration", cause_id=2
    )
    assert [(e.holder, e.bucket, e.amount) for e in entries] == [
        ("person", "pending", 10),
        ("outlet", "pending", 5),
    ]
    store_registration_rule(
        db.session, RegistrationRule("shop", 0), outlet_id=owner.outlet_id, actor_id=owner.id
    )
    entries = credits.credit(
        db.session, seller, 8, kind="accrual", by_shop_rule=True, cause_type="registration", cause_id=3
    )
    assert [(e.holder, e.amount) for e in entries] == [("outlet", 8)]
    shop = ledger.account_for_outlet(db.session, owner.outlet)
    assert (shop.active, shop.pending) == (8, 5)
    ledger.confirm(db.session, cause_type="registration", cause_id=2)
    assert (shop.active, shop.pending) == (13, 0)
    assert ledger.balance_of(db.session, seller) == ledger.Balance(20, 0)


def test_a_first_registration_credit_opens_the_accounts(db, make):
    owner = make.user(Role.OWNER)
    seller = make.user(Role.SELLER, outlet=owner.outlet)
    store_registration_rule(
        db.session, RegistrationRule("split", 70), outlet_id=owner.outlet_id, actor_id=owner.id
    )
    assert db.session.scalar(select(Account)) is None
    held = credits.credit(
        db.session, seller, 20, kind="hold", by_shop_rule=True, cause_type="registration", cause_id=1
    )
    earned = credits.credit(
        db.session,
        seller,
        10,
        kind="accrual",
        by_shop_rule=True,
        cause_type="registration",
        cause_id=2,
        at=T0,
    )
    assert [(e.holder, e.bucket, e.amount) for e in held + earned] == [
        ("person", "pending", 14),
        ("outlet", "pending", 6),
        ("person", "active", 7),
        ("outlet", "active", 3),
    ]
    person, shop = (
        db.session.get(Account, earned[0].account_id),
        db.session.get(Account, earned[1].account_id),
    )
    assert (person.user_id, shop.outlet_id) == (seller.id, owner.outlet_id)
    assert [(a.active, a.pending) for a in (person, shop)] == [(7, 14), (3, 6)]
    # the entries are the stored rows; active points have their lot, dated by the policy; pending none yet
    stored = db.session.execute(
        select(
            LedgerEntry.id,
            LedgerEntry.account_id,
            LedgerEntry.amount,
            LedgerEntry.cause_id,
            LedgerEntry.created_at,
        ).order_by(LedgerEntry.id)
    ).all()
    assert [tuple(row) for row in stored] == [
        (e.entry_id, e.account_id, e.amount, str(n), at)
        for n, at, credits in ((1, stored[0].created_at, held), (2, T0, earned))
        for e in credits
    ]
    lots = lots_of(db.session, person) + lots_of(db.session, shop)
    assert [(lot.entry_id, lot.amount, lot.remaining, lot.earned_at, lot.expires_at) for lot in lots] == [
        (earned[0].entry_id, 7, 7, T0, T0.replace(year=2027)),
        (earned[1].entry_id, 3, 3, T0, T0.replace(year=2027)),
    ]
    assert disagreements(db.session) == []


def test_a_registration_credit_shows_in_an_account_already_loaded(db, seller):
    account = ledger.account_for_user(db.session, seller)
    ledger.accrue(db.session, account, 5, cause_type="action", cause_id=1, kind="action")
    assert (account.active, account.pending) == (5, 0)
    credits.credit(
        db.session, seller, 10, kind="accrual", by_shop_rule=True, cause_type="registration", cause_id=1
    )
    credits.credit(
        db.session, seller, 4, kind="hold", by_shop_rule=True, cause_type="registration", cause_id=2
    )
    assert (account.active, account.pending) == (15, 4)
    ledger.spend(db.session, account, 15, cause_type="order", cause_id=1)  # the new lot is spendable
    assert ledger.balance_of(db.session, seller) == ledger.Balance(0, 4)
    assert disagreements(db.session) == []


def test_refund_gives_points_back(db, seller):
    account = ledger.account_for_user(db.session, seller)
    ledger.accrue(db.session, account, 30, cause_type="registration", cause_id=1)
    ledger.spend(db.session, account, 30, cause_type="order", cause_id=5)
    entry = ledger.refund(db.session, account, 30, cause_type="order", cause_id=5)
    assert entry.kind == "refund" and ledger.balance_of(db.session, seller).active == 30
    assert disagreements(db.session) == []


def test_reverse_an_accrual_writes_an_opposite_entry(db, seller, admin):
    account = ledger.account_for_user(db.session, seller)
    first = ledger.accrue(db.session, account, 30, cause_type="registration", cause_id=1, at=T0)
    ledger.accrue(db.session, account, 20, cause_type="registration", cause_id=2, at=T0 + timedelta(days=1))
    reversal = ledger.reverse(db.session, first, actor=admin, reason="code was stolen")
    assert (reversal.kind, reversal.amount, reversal.reverses_id) == ("reversal", -30, first.id)
    assert first.amount == 30  # the original is untouched
    assert ledger.balance_of(db.session, seller).active == 20
    assert [lot.remaining for lot in lots_of(db.session, account)] == [0, 20]
    with pytest.raises(Conflict) as twice:
        ledger.reverse(db.session, first, actor=admin, reason="again")
    assert twice.value.code == "already_reversed"
    with pytest.raises(Conflict):
        ledger.reverse(db.session, reversal, actor=admin, reason="undo the undo")
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "points.reverse"))
    assert audit.actor_id == admin.id and audit.details["reason"] == "code was stolen"
    assert disagreements(db.session) == []


def test_reverse_needs_a_reason_and_unspent_points(db, seller, admin):
    account = ledger.account_for_user(db.session, seller)
    entry = ledger.accrue(db.session, account, 30, cause_type="registration", cause_id=1)
    with pytest.raises(Invalid):
        ledger.reverse(db.session, entry, actor=admin, reason="  ")
    ledger.spend(db.session, account, 25, cause_type="order", cause_id=1)
    with pytest.raises(ledger.InsufficientPoints):
        ledger.reverse(db.session, entry, actor=admin, reason="fraud")


def test_reversing_a_spend_gives_the_points_back(db, seller, admin):
    account = ledger.account_for_user(db.session, seller)
    ledger.accrue(db.session, account, 30, cause_type="registration", cause_id=1)
    spent = ledger.spend(db.session, account, 10, cause_type="order", cause_id=1)
    reversal = ledger.reverse(db.session, spent, actor=admin, reason="order lost")
    assert reversal.amount == 10 and ledger.balance_of(db.session, seller).active == 30
    assert disagreements(db.session) == []


def test_manual_adjustment_needs_a_reason_and_is_audited(db, seller, admin):
    account = ledger.account_for_user(db.session, seller)
    with pytest.raises(Invalid):
        ledger.adjust(db.session, account, 10, actor=admin, reason="")
    ledger.adjust(db.session, account, 10, actor=admin, reason="welcome gift")
    ledger.adjust(db.session, account, -4, actor=admin, reason="typo")
    with pytest.raises(ledger.InsufficientPoints):
        ledger.adjust(db.session, account, -7, actor=admin, reason="too much")
    assert ledger.balance_of(db.session, seller).active == 6
    assert db.session.scalars(select(AuditEntry.action)).all() == ["points.adjust", "points.adjust"]
    assert disagreements(db.session) == []


def test_expiry_is_oldest_first_and_idempotent(db, seller):
    account = ledger.account_for_user(db.session, seller)
    ledger.set_expiry_policy(db.session, ExpiryPolicy("months", 12), actor=None)
    ledger.accrue(db.session, account, 100, cause_type="registration", cause_id=1, at=T0)
    ledger.accrue(db.session, account, 50, cause_type="registration", cause_id=2, at=T0 + timedelta(days=60))
    ledger.spend(db.session, account, 30, cause_type="order", cause_id=1)  # from the oldest lot

    assert ledger.expire_due(db.session, T0 + timedelta(days=364)) == 0
    now = T0 + timedelta(days=366)
    assert ledger.expire_due(db.session, now) == 70
    assert ledger.expire_due(db.session, now) == 0
    assert ledger.balance_of(db.session, seller).active == 50
    expiry = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "expiry")).all()
    assert [(e.amount, e.created_at) for e in expiry] == [(-70, now)]
    assert disagreements(db.session) == []


def test_changing_the_policy_redates_outstanding_points(db, seller):
    account = ledger.account_for_user(db.session, seller)
    ledger.set_expiry_policy(db.session, ExpiryPolicy("never", 0), actor=None)
    ledger.accrue(db.session, account, 10, cause_type="registration", cause_id=1, at=T0)
    assert lots_of(db.session, account)[0].expires_at is None
    assert ledger.expire_due(db.session, T0 + timedelta(days=5000)) == 0
    assert ledger.set_expiry_policy(db.session, ExpiryPolicy("quarter_end", 3), actor=None) == 1
    # earned 10 Jan; +3 months = 10 April, in Q2; Q2 ends as 1 July begins.
    assert lots_of(db.session, account)[0].expires_at == datetime(2026, 7, 1, tzinfo=UTC)


def test_policy_dates():
    assert ExpiryPolicy("months", 1).expires_at(datetime(2026, 1, 31, tzinfo=UTC)) == datetime(
        2026, 2, 28, tzinfo=UTC
    )
    assert ExpiryPolicy("quarter_end", 0).expires_at(datetime(2026, 11, 5, 8, tzinfo=UTC)) == datetime(
        2027, 1, 1, tzinfo=UTC
    )
    assert ExpiryPolicy("never", 0).expires_at(T0) is None
    with pytest.raises(Invalid):
        validate_expiry_policy("months", "0")
    with pytest.raises(Invalid):
        validate_expiry_policy("sometimes", 3)
    assert validate_expiry_policy("quarter_end", "0") == ExpiryPolicy("quarter_end", 0)


def test_reconciliation_reports_a_tampered_balance(db, seller):
    account = ledger.account_for_user(db.session, seller)
    ledger.accrue(db.session, account, 10, cause_type="registration", cause_id=1)
    db.session.execute(Account.__table__.update().where(Account.id == account.id).values(active=12))
    found = disagreements(db.session)
    assert [(d.account_id, d.bucket, d.balance, d.entries) for d in found] == [
        (account.id, "active", 12, 10),
        (account.id, "lots", 12, 10),
    ]
