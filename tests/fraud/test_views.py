"""Review queue and rule settings through the client (in Russian, the club's default language);
the queue's journey in a real browser."""

from __future__ import annotations

from sqlalchemy import select

from codes.models import Batch, BatchStatus, Product
from codes.services import RegistrationContext, batch_code, register_code
from fraud.models import FraudObservation, ReviewCase
from partner_club.audit.models import AuditEntry
from partner_club.ledger.services import balance_of
from partner_club.settings_store import get_setting
from tests.partner_club.test_notifications import smtp  # noqa: F401 - the real local SMTP server


def held_registration(make, *, territory=None):
    """A seller registers a code of a batch shipped to another region: held for review."""
    shipped_to = make.region(name_en="Tatarstan", name_ru="Татарстан", geometry=None, bbox="20,54,22,55.5")
    shop = make.outlet(region=make.region(name_en="Kaliningrad", name_ru="Калининград"), territory=territory)
    seller = make.user("seller", outlet=shop)
    product = Product(sku=f"BAG-{shop.id}", name="Bag 50 kg", rule_value=40)
    make.session.add(product)
    make.session.flush()
    batch = Batch(
        number=shop.id,
        product_id=product.id,
        key_version=1,
        count=100,
        region_id=shipped_to.id,
        status=BatchStatus.ACTIVATED.value,
    )
    make.session.add(batch)
    make.session.flush()
    result = register_code(
        make.session,
        seller,
        batch_code(batch, 7),
        channel="typed",
        ctx=RegistrationContext(ip="10.0.0.9", device="phone-9"),
    )
    assert result.status == "pending_review", result
    make.session.commit()
    return seller, make.session.scalar(select(ReviewCase))


def test_admin_approves_a_held_registration_and_the_points_become_active(client, login, make, db):
    seller, case = held_registration(make)
    assert (balance_of(db.session, seller).active, balance_of(db.session, seller).pending) == (0, 40)
    admin = make.user("admin")
    make.session.commit()
    login(admin)
    page = client.get("/fraud/").get_data(as_text=True)
    assert (
        seller.display_name in page
        and "Партия отгружена в регион Татарстан, зарегистрирована в регионе Калининград." in page
    )
    page = client.get(f"/fraud/cases/{case.id}").get_data(as_text=True)
    assert "риск 50" in page and "Последние попытки" in page
    response = client.post(
        f"/fraud/cases/{case.id}", data={"decision": "accept", "note": "checked the invoice"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (balance_of(db.session, seller).active, balance_of(db.session, seller).pending) == (40, 0)
    assert db.session.get(ReviewCase, case.id).status == "approved"
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "fraud.case.approve"))
    again = client.post(f"/fraud/cases/{case.id}", data={"decision": "reject"})
    assert again.status_code == 422 and "уже принято решение" in again.get_data(as_text=True)


def test_reject_and_block_needs_a_note_then_removes_points_and_blocks(client, login, make, db):
    seller, case = held_registration(make)
    admin = make.user("admin")
    make.session.commit()
    login(admin)
    refused = client.post(f"/fraud/cases/{case.id}", data={"decision": "reject", "action": "block"})
    assert refused.status_code == 422 and "Напишите примечание" in refused.get_data(as_text=True)
    client.post(
        f"/fraud/cases/{case.id}", data={"decision": "reject", "action": "block", "note": "label roll"}
    )
    db.session.expire_all()
    person = db.session.get(type(seller), seller.id)
    assert person.is_blocked and person.blocked_reason == "label roll"
    assert (balance_of(db.session, person).active, balance_of(db.session, person).pending) == (0, 0)


def test_a_rep_reviews_only_their_territory(client, login, make, db):
    rep, stranger = make.user("rep"), make.user("rep")
    territory = make.territory(rep=rep)
    seller, case = held_registration(make, territory=territory)
    make.session.commit()
    login(stranger)
    assert client.get(f"/fraud/cases/{case.id}").status_code == 404
    assert seller.display_name not in client.get("/fraud/").get_data(as_text=True)
    assert client.post(f"/fraud/cases/{case.id}", data={"decision": "accept"}).status_code == 404
    client.post("/logout")
    login(rep)
    assert client.get(f"/fraud/cases/{case.id}").status_code == 200
    assert client.get("/fraud/settings").status_code == 403
    seller_login = make.user("seller")
    make.session.commit()
    client.post("/logout")
    login(seller_login)
    assert client.get("/fraud/").status_code == 403


def test_a_regional_manager_reviews_their_regions_cases_and_a_warning_mail_follows(
    client,
    login,
    make,
    db,
    smtp,  # noqa: F811
):
    seller, case = held_registration(make)
    seller.email, seller.locale = "seller@example.com", "en"
    manager = make.user("regional_manager", region_id=seller.outlet.region_id)
    elsewhere = make.user("regional_manager", region_id=make.region().id)
    make.session.commit()
    login(elsewhere)
    assert client.get(f"/fraud/cases/{case.id}").status_code == 404
    client.post("/logout")
    login(manager)
    assert seller.display_name in client.get("/fraud/").get_data(as_text=True)
    response = client.post(
        f"/fraud/cases/{case.id}", data={"decision": "reject", "action": "warn", "note": "no invoice"}
    )
    assert response.status_code == 302
    assert db.session.get(ReviewCase, case.id).status == "rejected"
    [mail] = smtp.messages  # in the participant's language, not the reviewer's
    assert mail["To"] == "seller@example.com"
    assert mail["Subject"] == "Partner Club: a registration of yours was rejected"
    assert "Reviewer's note: no invoice" in mail.get_body(("plain",)).get_content()
    assert "/codes/registrations" in mail.get_body(("html",)).get_content()


def test_settings_refuse_insane_thresholds_and_save_sane_ones(client, login, make, db):
    admin = make.user("admin")
    make.session.commit()
    login(admin)
    page = client.get("/fraud/settings").get_data(as_text=True)
    assert "Серии номеров подряд" in page and 'name="sequence.run_min" value="150' in page
    form = {
        "hold_score": "40",
        "reject_score": "90",
        "utc_offset_hours": "3",
        "sequence.enabled": "on",
        "sequence.run_min": "1",
        "sequence.score": "50",
    }
    refused = client.post("/fraud/settings", data=form)
    assert refused.status_code == 422
    assert "серия такой длины допустима всегда: 1 вне разумных пределов 3–10000" in refused.get_data(
        as_text=True
    )
    assert get_setting(db.session, "fraud.config", None) is None
    form["sequence.run_min"] = "8"
    assert client.post("/fraud/settings", data=form).status_code == 302
    stored = get_setting(db.session, "fraud.config", None)
    assert stored["detectors"]["sequence"]["params"]["run_min"] == 8.0
    assert stored["detectors"]["canary"]["enabled"] is False  # its box was not ticked


def test_replaying_history_through_a_rule_shows_what_it_would_flag(client, login, make, db):
    _seller, _case = held_registration(make)
    admin = make.user("admin")
    make.session.commit()
    login(admin)
    form = {
        "hold_score": "40",
        "reject_score": "90",
        "utc_offset_hours": "3",
        "backtest": "geography",
        "geography.region_score": "50",
        "geography.distance_km": "100",
        "geography.distance_score": "25",
    }
    page = client.post("/fraud/settings", data=form).get_data(as_text=True)
    assert "отмечено 1 из 1 попыток, из них 0 тогда были приняты" in page
    assert "Партия отгружена в регион Татарстан, зарегистрирована в регионе Калининград." in page
    form["geography.region_score"] = "0"
    page = client.post("/fraud/settings", data=form).get_data(as_text=True)
    assert "отмечено 0 из 1 попыток" in page
    assert db.session.query(FraudObservation).count() == 1


def test_review_queue_in_a_real_browser(phone, make, db, screenshot):
    seller, case = held_registration(make)
    admin = make.user("admin")
    make.session.commit()
    phone.goto("/login")
    phone.fill("input[name=login]", admin.login)
    phone.fill("input[name=password]", "correct-horse-9")
    phone.click("button[type=submit]")
    phone.goto("/fraud/")
    screenshot(phone, "queue")
    phone.click(f"a[href='/fraud/cases/{case.id}']")
    phone.wait_for_selector("text=Кейс")
    phone.fill("textarea[name=note]", "накладная проверена")
    screenshot(phone, "case")
    phone.click("button[value=accept]")
    phone.wait_for_selector(".flash-success")
    screenshot(phone, "approved")
    db.session.expire_all()
    balance = balance_of(db.session, seller)
    assert (balance.active, balance.pending) == (40, 0)
    phone.goto("/fraud/settings")
    phone.click("button[value=geography]")
    phone.wait_for_selector("#backtest")
    assert "отмечено 1 из 1 попыток" in phone.inner_text("#backtest")
    screenshot(phone, "settings")


def test_flagged_participants_are_listed_and_can_be_blocked(client, login, make, db):
    seller, _case = held_registration(make)
    for i in range(3):  # refused attempts seen by fraud
        db.session.add(
            FraudObservation(
                participant_id=seller.id,
                outlet_id=seller.outlet_id,
                channel="typed",
                failure="bad_check_symbol",
                decision="reject",
                score=90,
            )
        )
    admin = make.user("admin")
    make.session.commit()
    login(admin)
    page = client.get("/fraud/").get_data(as_text=True)
    assert "Участники под подозрением" in page and "задержано: 1, отклонено: 3" in page
    assert client.post(f"/fraud/people/{seller.id}", data={"note": ""}).status_code == 422
    response = client.post(f"/fraud/people/{seller.id}", data={"note": "подбор кодов"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(seller), seller.id).blocked_reason == "подбор кодов"
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "fraud.block"))
    assert client.get(f"/fraud/people/{admin.id}").status_code == 404  # not a participant


def test_a_refused_registration_is_kept_with_its_reasons(client, api_token, make, db):
    seller = make.user("seller")
    product = Product(sku="BAG-C", name="Bag", rule_value=40)
    make.session.add(product)
    make.session.flush()
    canary = Batch(
        number=900,
        product_id=product.id,
        key_version=1,
        count=100,
        status=BatchStatus.ACTIVATED.value,
        is_canary=True,
    )
    make.session.add(canary)
    make.session.commit()
    token = api_token(seller)
    response = client.post(
        "/api/v1/registrations",
        json={"code": batch_code(canary, 5), "channel": "typed"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422 and response.get_json()["reason"] == "fraud_rejected"
    kept = db.session.scalars(select(FraudObservation)).all()
    assert [(k.decision, k.reasons[0]["detector"]) for k in kept] == [("reject", "canary")]
