"""`flask points check` and `flask points expire`, and the daily job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from partner_club.accounts.models import Role
from partner_club.jobs.models import Job
from partner_club.ledger import credits
from partner_club.ledger import services as ledger
from partner_club.ledger.announce import announce_expiring
from partner_club.ledger.models import Account, LedgerEntry
from partner_club.ledger.policy import ExpiryPolicy

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def test_check_passes_on_a_consistent_ledger(app, db, make):
    account = ledger.account_for_user(db.session, make.user(Role.SELLER))
    ledger.accrue(db.session, account, 10, cause_type="registration", cause_id=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["points", "check"])
    assert result.exit_code == 0 and "OK: 1 accounts, 1 entries" in result.output


def test_check_lists_every_disagreeing_account_and_fails(app, db, make):
    good = ledger.account_for_user(db.session, make.user(Role.SELLER))
    bad = ledger.account_for_user(db.session, make.user(Role.SELLER))
    for account in (good, bad):
        ledger.accrue(db.session, account, 10, cause_type="registration", cause_id=account.id)
    db.session.execute(Account.__table__.update().where(Account.id == bad.id).values(pending=3))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["points", "check"])
    assert result.exit_code == 1
    assert f"account {bad.id}: pending balance 3, sum of pending entries 0" in result.output
    assert f"account {good.id}:" not in result.output
    assert "1 of 2 accounts disagree" in result.output


def _seller_with_old_points(db, make):
    seller = make.user(Role.SELLER, email="seller@example.com", locale="en")
    ledger.set_expiry_policy(db.session, ExpiryPolicy("months", 12), actor=None)
    account = ledger.account_for_user(db.session, seller)
    ledger.accrue(db.session, account, 70, cause_type="registration", cause_id=1, at=T0)
    ledger.accrue(db.session, account, 5, cause_type="registration", cause_id=2, at=T0 + timedelta(days=20))
    db.session.commit()
    return seller


def test_expire_command_is_idempotent(app, db, make):
    seller = _seller_with_old_points(db, make)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["points", "expire", "--now", "2027-01-15"])
    assert first.exit_code == 0 and "Expired 70 points" in first.output, first.output
    second = runner.invoke(args=["points", "expire", "--now", "2027-01-15"])
    assert "Expired 0 points" in second.output
    db.session.expire_all()
    assert ledger.balance_of(db.session, seller).active == 5


def test_expire_job_runs_through_the_queue(app, db, make, work_jobs):
    seller = _seller_with_old_points(db, make)
    result = app.test_cli_runner().invoke(
        args=["points", "expire", "--queue", "--now", "2027-01-15T00:00:00"]
    )
    assert result.exit_code == 0 and "Queued job" in result.output
    work_jobs()
    db.session.expire_all()
    job = db.session.scalar(select(Job))
    assert job.status == "finished", job.error
    assert job.result == {"expired": 70, "announced": 1}
    assert ledger.balance_of(db.session, seller).active == 5
    expiry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "expiry"))
    assert expiry.amount == -70 and expiry.cause_type == "expiry"


def test_expiring_points_are_announced_once(db, make):
    seller = _seller_with_old_points(db, make)
    soon = T0 + timedelta(days=365 - 10)
    assert announce_expiring(db.session, soon) == 1
    assert announce_expiring(db.session, soon) == 0
    assert announce_expiring(db.session, T0 + timedelta(days=100)) == 0  # nothing within 30 days
    assert seller.email


def test_a_shops_expiring_points_are_announced_to_its_owners(db, make):
    owner = make.user(Role.OWNER, email="owner@example.com")
    make.user(Role.SELLER, outlet=owner.outlet, email="seller@example.com")
    ledger.set_expiry_policy(db.session, ExpiryPolicy("months", 12), actor=None)
    shop = ledger.account_for_outlet(db.session, owner.outlet)
    ledger.accrue(db.session, shop, 70, cause_type="registration", cause_id=1, at=T0)
    assert announce_expiring(db.session, T0 + timedelta(days=350)) == 1  # the owner, not the seller


def test_an_individual_participant_gets_all_registration_points(db, make):
    territory = make.territory()
    person = make.user(Role.SELLER, territory_id=territory.id)
    [entry] = credits.credit(
        db.session, person, 12, kind="accrual", by_shop_rule=True, cause_type="registration", cause_id=1
    )
    assert db.session.get(Account, entry.account_id).user_id == person.id and entry.amount == 12
