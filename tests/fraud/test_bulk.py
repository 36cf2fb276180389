"""Deciding a whole roll, batch or person at once: each case through the single-case service."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from codes.models import Batch, BatchStatus, Product
from codes.services import RegistrationContext, batch_code, register_code
from fraud import review
from fraud import services as fraud_services
from fraud.models import ReviewCase
from partner_club.errors import Conflict
from partner_club.ledger.services import balance_of
from tests.browser import sign_in


def _held_world(make):
    """A batch shipped to Tatarstan; two Kaliningrad sellers register its codes: every one held.

    The first registers serials 7, 8 and 9 (a roll), the second serial 50.
    """
    shipped_to = make.region(name_en="Tatarstan", name_ru="Татарстан")
    away = make.region(name_en="Kaliningrad", name_ru="Калининград")
    first = make.user("seller", outlet=make.outlet(region=away), full_name="Пётр Рулонов")
    second = make.user("seller", outlet=make.outlet(region=away), full_name="Анна Второва")
    product = Product(sku="BAG-50", name="Bag 50 kg", rule_value=40)
    make.session.add(product)
    make.session.flush()
    batch = Batch(
        number=501,
        product_id=product.id,
        key_version=1,
        count=100,
        region_id=shipped_to.id,
        status=BatchStatus.ACTIVATED.value,
    )
    make.session.add(batch)
    make.session.flush()
    # A batch registered far from where it shipped scores at least 5 (a neighbour) under any
    # calibration; a hold score of 1 holds every such registration and rejects none.
    config = fraud_services.load_config(make.session).as_json()
    fraud_services.save_config(make.session, {**config, "hold_score": 1, "reject_score": 1000}, actor=None)
    for person, serial in ((first, 7), (first, 8), (first, 9), (second, 50)):
        result = register_code(
            make.session,
            person,
            batch_code(batch, serial),
            channel="typed",
            ctx=RegistrationContext(ip=f"10.0.0.{serial}", device=f"phone-{person.id}"),
        )
        assert result.status == "pending_review", result
    make.session.commit()
    cases = {c.observation.serial: c for c in make.session.scalars(select(ReviewCase))}
    return first, second, cases


def test_the_summary_counts_cases_people_and_held_points_of_each_scope(db, make):
    _first, _second, cases = _held_world(make)
    admin = make.user("admin")
    make.session.commit()
    summary = {
        kind: review.bulk_summary(db.session, admin, review.BulkScope.around(cases[8], kind))
        for kind in review.BULK_KINDS
    }
    assert summary["roll"] == review.BulkSummary(cases=3, people=1, points=120)
    assert summary["person"] == review.BulkSummary(cases=3, people=1, points=120)
    assert summary["batch"] == review.BulkSummary(cases=4, people=2, points=160)


def test_a_bulk_decision_goes_case_by_case_and_refuses_a_stale_count(db, make):
    first, second, cases = _held_world(make)
    admin = make.user("admin")
    make.session.commit()
    scope = review.BulkScope.around(cases[50], "batch")
    with pytest.raises(Conflict):
        review.decide_bulk(db.session, scope, reviewer=admin, decision="accept", expected_cases=3)
    assert db.session.scalar(select(func.count()).where(ReviewCase.status == "open")) == 4
    done = review.decide_bulk(
        db.session,
        review.BulkScope.around(cases[7], "roll"),
        reviewer=admin,
        decision="reject",
        expected_cases=3,
    )
    db.session.commit()
    assert done.points == 120
    assert (balance_of(db.session, first).active, balance_of(db.session, first).pending) == (0, 0)
    assert (balance_of(db.session, second).active, balance_of(db.session, second).pending) == (0, 40)
    open_left = db.session.scalars(select(ReviewCase).where(ReviewCase.status == "open")).all()
    assert [c.participant_id for c in open_left] == [second.id]


def test_an_admin_approves_a_whole_batch_on_a_phone(phone, make, db, screenshot):
    first, second, cases = _held_world(make)
    admin = make.user("admin")
    make.session.commit()
    sign_in(phone, admin.login)
    phone.goto("/fraud/")
    phone.click(f"a[href='/fraud/cases/{cases[50].id}/bulk/batch']")
    summary = phone.locator(".fraud-bulk")
    assert summary.get_attribute("data-cases") == "4" and summary.get_attribute("data-points") == "160"
    assert "4 открытых кейса" in phone.inner_text(".fraud-bulk-summary")
    approve = phone.locator("button[value=accept]")
    assert "160" in approve.inner_text()
    screenshot(phone, "confirm")
    approve.click()
    phone.wait_for_selector(".flash-success")
    assert "160" in phone.inner_text(".flash-success")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    db.session.expire_all()
    assert (balance_of(db.session, first).active, balance_of(db.session, second).active) == (120, 40)
    assert db.session.scalar(select(func.count()).where(ReviewCase.status == "approved")) == 4
