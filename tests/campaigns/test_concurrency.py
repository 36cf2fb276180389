"""50 parallel registrations against a budget with 10 registrations' worth left award exactly 10.

Only PostgreSQL has row locks worth testing; SQLite serialises every writer on the file.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from partner_club.accounts.models import Role
from partner_club.campaigns.models import Campaign, CampaignAward
from tests.campaigns.helpers import T0, register, running

pytestmark = pytest.mark.postgres
PARALLEL = 50


@pytest.fixture
def postgres(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL only (set TEST_DATABASE_URL)")
    return db


@pytest.mark.parametrize("cap", [None, 10 * 10])
def test_parallel_registrations_spend_exactly_the_budget(app, postgres, make, cap):
    shop = make.outlet()
    sellers = [make.user(Role.SELLER, outlet=shop) for _ in range(PARALLEL)]
    budget = 1000 if cap else 10 * 10
    campaign = running(postgres.session, mechanic="bonus", value=10, budget=budget, cap_shop_period=cap)
    campaign.spent = budget - 10 * 10 if not cap else 0
    postgres.session.commit()
    ids = [s.id for s in sellers]
    start = threading.Barrier(PARALLEL, timeout=60)
    engine = create_engine(postgres.engine.url, pool_size=PARALLEL + 2)

    def one(n: int) -> int:
        with app.app_context(), Session(engine) as session:
            person = session.get(type(sellers[0]), ids[n])
            start.wait()
            items = register(session, person, at=T0, registration_id=10_000 + n)
            session.commit()
            return sum(i["points"] for i in items)

    with ThreadPoolExecutor(PARALLEL) as pool:
        got = list(pool.map(one, range(PARALLEL)))
    engine.dispose()
    assert sorted(got, reverse=True)[:11] == [10] * 10 + [0]
    postgres.session.expire_all()
    paid = postgres.session.scalar(select(func.count()).where(CampaignAward.points > 0))
    assert paid == 10
    assert postgres.session.get(Campaign, campaign.id).spent == (budget if not cap else 100)


@pytest.mark.parametrize("after", [1, 5])
def test_parallel_accepted_registrations_pay_the_referral_bonus_once(app, postgres, make, after):
    from codes.services import RegistrationContext, store_registration
    from partner_club.campaigns.bonuses import BonusRule, store_rules
    from partner_club.ledger.models import LedgerEntry
    from partner_club.ledger.services import balance_of
    from tests.codes.helpers import batch

    store_rules(
        postgres.session, welcome=BonusRule(), referral=BonusRule(points=700, after=after), actor_id=None
    )
    referrer = make.user(Role.OWNER)
    shop = make.outlet(referred_by_id=referrer.id)
    count = 20
    ids = [make.user(Role.SELLER, outlet=shop).id for _ in range(count)]
    batch_id = batch(postgres.session, count=count).id
    postgres.session.commit()
    start = threading.Barrier(count, timeout=60)
    engine = create_engine(postgres.engine.url, pool_size=count + 2)

    def one(n: int) -> None:
        from codes.models import Batch
        from partner_club.accounts.models import User

        with app.app_context(), Session(engine) as session:
            person, issued = session.get(User, ids[n]), session.get(Batch, batch_id)
            start.wait()
            store_registration(
                session, person, issued, n + 1, channel="typed", ctx=RegistrationContext(ip="10.0.0.9")
            )
            session.commit()

    with ThreadPoolExecutor(count) as pool:
        list(pool.map(one, range(count)))
    engine.dispose()
    postgres.session.expire_all()
    entries = postgres.session.scalars(select(LedgerEntry).where(LedgerEntry.cause_type == "referral")).all()
    assert [(e.amount, e.breakdown) for e in entries] == [(700, [{"source": "referral", "points": 700}])]
    assert balance_of(postgres.session, referrer).active == 700
