"""Any sequence of ledger operations keeps entries, balances and lots in agreement."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from partner_club.accounts.models import Role, User
from partner_club.errors import DomainError
from partner_club.ledger import services as ledger
from partner_club.ledger.models import LedgerEntry, PointLot
from partner_club.ledger.policy import ExpiryPolicy
from partner_club.ledger.reconcile import disagreements

T0 = datetime(2026, 1, 1, tzinfo=UTC)

operation = st.one_of(
    st.tuples(st.just("accrue"), st.integers(1, 50), st.integers(0, 800)),
    st.tuples(st.just("spend"), st.integers(1, 80), st.just(0)),
    st.tuples(st.just("hold"), st.integers(1, 50), st.integers(0, 3)),
    st.tuples(st.just("confirm"), st.integers(0, 3), st.just(0)),
    st.tuples(st.just("reject"), st.integers(0, 3), st.just(0)),
    st.tuples(st.just("expire"), st.just(0), st.integers(0, 1200)),
    st.tuples(st.just("reverse"), st.integers(0, 30), st.just(0)),
    st.tuples(st.just("adjust"), st.integers(-40, 40).filter(bool), st.just(0)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_every_sequence_reconciles(db, make, ops):
    person, admin = _cheap_user(make, Role.SELLER), _cheap_user(make, Role.ADMIN)
    ledger.set_expiry_policy(db.session, ExpiryPolicy("months", 12), actor=None)
    account = ledger.account_for_user(db.session, person)
    for n, (name, amount, extra) in enumerate(ops):
        savepoint = db.session.begin_nested()  # a refused operation leaves nothing behind
        try:
            _apply(db.session, account, admin, name, amount, extra, n)
        except DomainError:
            savepoint.rollback()
        else:
            savepoint.commit()
    assert [d for d in disagreements(db.session) if d.account_id == account.id] == []
    lots = db.session.scalars(select(PointLot).where(PointLot.account_id == account.id)).all()
    assert sum(lot.remaining for lot in lots) == account.active


def _cheap_user(make, role):
    """A person without the (deliberately slow) password hash: examples are many."""
    outlet = make.outlet() if role == Role.SELLER else None
    user = User(
        login=f"prop-{uuid.uuid4().hex}",
        role=role.value,
        password_hash="!",
        outlet_id=outlet.id if outlet else None,
    )
    make.session.add(user)
    make.session.flush()
    return user


def _apply(session, account, admin, name, amount, extra, n):
    cause = f"{account.id}-{extra}"
    if name == "accrue":
        ledger.accrue(
            session, account, amount, cause_type="registration", cause_id=n, at=T0 + timedelta(days=extra)
        )
    elif name == "spend":
        ledger.spend(session, account, amount, cause_type="order", cause_id=n)
    elif name == "hold":
        ledger.hold(session, account, amount, cause_type="registration", cause_id=cause)
    elif name == "confirm":
        ledger.confirm(session, cause_type="registration", cause_id=cause)
    elif name == "reject":
        ledger.reject(session, cause_type="registration", cause_id=cause)
    elif name == "expire":
        ledger.expire_due(session, T0 + timedelta(days=extra))
    elif name == "reverse":
        entries = session.scalars(
            select(LedgerEntry).where(LedgerEntry.account_id == account.id).order_by(LedgerEntry.id)
        ).all()
        if entries:
            ledger.reverse(session, entries[amount % len(entries)], actor=admin, reason="property test")
    elif name == "adjust":
        ledger.adjust(session, account, amount, actor=admin, reason="property test")
    else:  # pragma: no cover
        pytest.fail(name)
