"""Parallel transactions against one account: never overdrawn, always reconciled.

Only PostgreSQL has row locks worth testing; SQLite serialises every writer
on the whole database file, so these tests run only with TEST_DATABASE_URL.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from partner_club.accounts.models import Role
from partner_club.database import utcnow
from partner_club.ledger import credits
from partner_club.ledger import services as ledger
from partner_club.ledger.models import Account, LedgerEntry
from partner_club.ledger.policy import RegistrationRule, store_registration_rule
from partner_club.ledger.reconcile import disagreements

THREADS = 8
pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip(
            "row locks are tested on PostgreSQL only (set TEST_DATABASE_URL); "
            "SQLite serialises every writer on the whole file"
        )
    return db


def _in_own_transaction(app, work):
    """Runs `work(session)` in a session and transaction of its own; returns its outcome."""
    with app.app_context(), Session(app.extensions["sqlalchemy"].engine) as session:
        try:
            result = work(session)
            session.commit()
            return result
        except ledger.InsufficientPoints:
            session.rollback()
            return "refused"


def test_parallel_spends_never_overdraw(app, postgres, make):
    seller = make.user(Role.SELLER)
    account = ledger.account_for_user(postgres.session, seller)
    ledger.accrue(postgres.session, account, 50, cause_type="registration", cause_id=1)
    postgres.session.commit()
    account_id = account.id
    start = threading.Barrier(THREADS)

    def spend_one(n: int):
        def work(session):
            if n < THREADS:
                start.wait()
            target = session.get(Account, account_id)
            ledger.spend(session, target, 3, cause_type="order", cause_id=n)
            return "spent"

        return _in_own_transaction(app, work)

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(spend_one, range(40)))

    assert outcomes.count("spent") == 16 and outcomes.count("refused") == 24
    postgres.session.expire_all()
    assert ledger.balance_of(postgres.session, seller) == ledger.Balance(2, 0)
    assert disagreements(postgres.session) == []
    result = app.test_cli_runner().invoke(args=["points", "check"])
    assert result.exit_code == 0 and result.output.startswith("OK"), result.output


def test_parallel_accrue_spend_confirm_and_expire_reconcile(app, postgres, make):
    seller = make.user(Role.SELLER)
    account = ledger.account_for_user(postgres.session, seller)
    for n in range(10):
        ledger.hold(postgres.session, account, 5, cause_type="registration", cause_id=f"held-{n}")
    ledger.accrue(
        postgres.session,
        account,
        40,
        cause_type="registration",
        cause_id="old",
        at=utcnow() - timedelta(days=400),
    )
    postgres.session.commit()
    account_id = account.id

    def step(n: int):
        def work(session):
            target = session.get(Account, account_id)
            kind = n % 4
            if kind == 0:
                ledger.accrue(session, target, 2, cause_type="action", cause_id=n, kind="action")
            elif kind == 1:
                ledger.spend(session, target, 3, cause_type="order", cause_id=n)
            elif kind == 2:
                ledger.confirm(session, cause_type="registration", cause_id=f"held-{n // 4 % 10}")
            else:
                ledger.expire_due(session, utcnow())
            return "done"

        try:
            return _in_own_transaction(app, work)
        except Exception as error:  # a second confirm of one cause is refused: also an outcome
            return type(error).__name__

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(step, range(80)))

    assert "done" in outcomes
    assert set(outcomes) <= {"done", "refused", "Conflict"}, outcomes
    postgres.session.expire_all()
    assert disagreements(postgres.session) == []
    confirmed = postgres.session.scalars(
        select(LedgerEntry).where(LedgerEntry.kind == "confirmation", LedgerEntry.bucket == "active")
    ).all()
    assert len(confirmed) == len({e.cause_id for e in confirmed})  # each cause confirmed once
    result = app.test_cli_runner().invoke(args=["points", "check"])
    assert result.exit_code == 0, result.output


def test_parallel_first_credits_create_one_account(app, postgres, make):
    seller = make.user(Role.SELLER)
    postgres.session.commit()
    user_id = seller.id
    start = threading.Barrier(THREADS)

    def first_credit(n: int):
        def work(session):
            start.wait()
            person = session.get(type(seller), user_id)
            return ledger.accrue(
                session, ledger.account_for_user(session, person), 5, cause_type="registration", cause_id=n
            ).account_id

        return _in_own_transaction(app, work)

    with ThreadPoolExecutor(THREADS) as pool:
        account_ids = set(pool.map(first_credit, range(THREADS)))
    assert len(account_ids) == 1
    postgres.session.expire_all()
    assert ledger.balance_of(postgres.session, seller).active == 5 * THREADS
    assert disagreements(postgres.session) == []


def test_parallel_registration_credits_open_one_account_each_and_reconcile(app, postgres, make):
    owner = make.user(Role.OWNER)
    seller = make.user(Role.SELLER, outlet=owner.outlet)
    store_registration_rule(
        postgres.session, RegistrationRule("split", 50), outlet_id=owner.outlet_id, actor_id=owner.id
    )
    postgres.session.commit()
    user_id = seller.id
    start = threading.Barrier(THREADS)

    def register(n: int):
        def work(session):
            if n < THREADS:
                start.wait()  # the first ones race to open the person's and the shop's accounts
            person = session.get(type(seller), user_id)
            credits.credit(
                session,
                person,
                4,
                kind="hold" if n % 3 == 0 else "accrual",
                by_shop_rule=True,
                cause_type="registration",
                cause_id=n,
            )
            return "credited"

        return _in_own_transaction(app, work)

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(register, range(40)))

    assert outcomes == ["credited"] * 40
    held = len([n for n in range(40) if n % 3 == 0])
    accounts = postgres.session.scalars(select(Account).order_by(Account.kind)).all()
    assert [(a.kind, a.active, a.pending) for a in accounts] == [
        ("outlet", 2 * (40 - held), 2 * held),
        ("person", 2 * (40 - held), 2 * held),
    ]
    assert disagreements(postgres.session) == []
    result = app.test_cli_runner().invoke(args=["points", "check"])
    assert result.exit_code == 0 and result.output.startswith("OK"), result.output
