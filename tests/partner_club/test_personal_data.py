"""Personal data: kept out of the logs, masked in the audit log, addresses not shown to reps;
head office changes nothing; every change of a target is audited."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from flask import g
from sqlalchemy import func, select

from catalog.models import Category, Prize
from fraud.models import FraudObservation
from partner_club.accounts import invitations as inv
from partner_club.accounts.models import Role, User
from partner_club.audit.models import AuditEntry
from partner_club.ledger.services import account_for_user, accrue
from partner_club.notifications.services import Message, send_now
from reports.models import Target
from tests import factories
from tests.codes.helpers import batch, code
from tests.fraud.test_views import held_registration
from tests.partner_club.test_invitations_views import GOOD_INN, shop_form

PHONE_DIGITS = "9123456789"
SHOP_ADDRESS = "Bauman st. 1"
DELIVERY = "Tverskaya 7, apt 12"
PERSON_INN = "500100732259"
EMAIL = "anna.petrova@example.com"


def _prize(session) -> Prize:
    category = Category(slug="mugs", kind="branded", name_en="Mugs", name_ru="Кружки")
    session.add(category)
    session.flush()
    prize = Prize(
        category_id=category.id,
        name_en="Mug",
        name_ru="Кружка",
        description_en="",
        description_ru="",
        points=100,
        value_kopecks=50000,
        stock=5,
        provider="warehouse",
        provider_sku="MUG",
    )
    session.add(prize)
    session.flush()
    return prize


def test_sign_up_registration_and_order_leave_no_personal_data_in_the_logs(app, client, make, db, caplog):
    rep, territory, _ = make.rep_with_outlet()
    card = inv.issue_outlet_invitations(db.session, rep, territory, count=1, valid_days=5)[0]
    issued = batch(db.session)
    prize = _prize(db.session)
    make.session.commit()
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # as with echo on: every statement
    try:
        form = shop_form(card, territory.region, address=f"Kazan, {SHOP_ADDRESS}")
        assert client.post(f"/join/{card.code}", data=form).status_code == 302
        g.pop("_login_user", None)
        token = client.post("/api/v1/auth/token", json={"login": "+79123456789", "password": "secret-pass-1"})
        headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
        registered = client.post("/api/v1/registrations", json={"code": code(issued, 5)}, headers=headers)
        assert registered.status_code == 201, registered.get_json()
        owner_id = db.session.scalar(select(User.id).where(User.login == "+79123456789"))
        accrue(
            db.session,
            account_for_user(db.session, db.session.get(User, owner_id)),
            500,
            cause_type="adjustment",
            cause_id=None,
            kind="adjustment",
        )
        db.session.commit()
        taxed = client.put("/api/v1/tax-profile", json={"inn": PERSON_INN, "consent": True}, headers=headers)
        assert taxed.status_code == 200
        body = {
            "items": [{"prize": prize.id, "quantity": 1}],
            "delivery": {"address": f"Moscow, {DELIVERY}", "phone": "+7 912 345 67 89"},
        }
        assert client.post("/api/v1/orders", json=body, headers=headers).status_code == 201
        send_now(Message(to=EMAIL, subject="Your order", text="Hello"), "email", {"MAIL_SERVER": None})
        send_now(Message(to="+79123456789", subject="", text="Your code 1234"), "sms", {})
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logged = caplog.text
    assert "INSERT INTO" in logged  # the statements were logged, their parameters not
    assert "mail (no MAIL_SERVER, not sent)" in logged and "sms to=" in logged
    for secret in (PHONE_DIGITS, EMAIL, SHOP_ADDRESS, DELIVERY, GOOD_INN, PERSON_INN, "Anna Petrova"):
        assert secret not in logged, secret


def test_the_audit_log_keeps_a_tax_number_masked(client, make, db, api_token):
    person = make.user(Role.SELLER)
    make.session.commit()
    headers = {"Authorization": f"Bearer {api_token(person)}"}
    assert (
        client.put(
            "/api/v1/tax-profile", json={"inn": PERSON_INN, "consent": True}, headers=headers
        ).status_code
        == 200
    )
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "catalog.tax_profile"))
    assert entry.details == {"inn": "**********59"}


def test_every_change_of_a_target_is_audited(client, make, login, db):
    region = make.region("RU-TA")
    admin = make.user(Role.ADMIN)
    make.session.commit()
    login(admin)
    for value in ("100", "120"):
        form = {"scope": "region", "code": "RU-TA", "metric": "packages", "period": "2026-03", "value": value}
        assert client.post("/reports/targets", data=form).status_code == 302
    target_id = db.session.scalar(select(Target.id))
    assert client.post(f"/reports/targets/{target_id}/delete", data={"period": "2026-03"}).status_code == 302
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action.like("reports.target%")).order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.actor_id, e.details.get("value"), e.details["previous"]) for e in entries] == [
        ("reports.target_set", admin.id, 100.0, None),
        ("reports.target_set", admin.id, 120.0, 100.0),
        ("reports.target_deleted", admin.id, None, 120.0),
    ]
    assert all(e.details["scope"] == "region" and e.details["scope_id"] == region.id for e in entries)


# Own-account and anonymous routes a head office person may post to: they change only their own things.
OWN_ACCOUNT = {
    "/login",
    "/logout",
    "/reports/subscriptions",
    "/join",
    "/join/<code>",
    "/api/v1/auth/token",
    "/account/security",  # one's own password, devices and tokens
    "/password/forgot",
    "/password/reset/<token>",
    "/notifications/read",  # one's own messages and push subscriptions
    "/api/v1/notifications/read",
    "/api/v1/push/subscriptions",
    "/api/v1/me/preferences",  # one's own channels
    # Head office's one piece of work that writes: whom the KPI report e-mails go to.
    "/reports/subscriptions/schedule",
    "/reports/subscriptions/<int:subscription_id>/cancel",
}


def _row_counts(db) -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def test_head_office_changes_nothing_through_any_post_route(app, client, make, login, db):
    head_office = make.user(Role.HEAD_OFFICE)
    make.session.commit()
    login(head_office)
    token = client.post(
        "/api/v1/auth/token", json={"login": head_office.login, "password": factories.PASSWORD}
    )
    bearer = {"Authorization": f"Bearer {token.get_json()['token']}"}
    before = _row_counts(db)
    checked = 0
    for rule in app.url_map.iter_rules():
        own = (
            rule.rule in OWN_ACCOUNT
            or rule.rule.startswith(("/account/", "/unsubscribe/"))
            # The support desk: one's own questions, and head office answers participants too.
            or rule.rule.startswith(("/support/", "/api/v1/support/"))
        )
        if not {"POST", "PUT", "PATCH", "DELETE"} & rule.methods or own:
            continue
        path = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", rule.rule)
        path = re.sub(r"<(?:[^:>]+:)?[^>]+>", "1", path)
        method = next(m for m in ("POST", "PUT", "PATCH", "DELETE") if m in rule.methods)
        headers = bearer if rule.rule.startswith("/api/") else {}
        response = client.open(
            path, method=method, data={"value": "1", "register": "1", "payload": "ABC"}, headers=headers
        )
        assert response.status_code in (403, 404), (rule.rule, response.status_code)
        checked += 1
    assert checked > 40
    db.session.expire_all()
    assert _row_counts(db) == before


def test_reps_see_whether_an_address_is_shared_not_the_address(client, make, login, db):
    rep, territory, _ = make.rep_with_outlet()
    _, case = held_registration(make, territory=territory)
    neighbour = make.user(Role.SELLER)
    seen = case.observation
    db.session.add(FraudObservation(participant_id=neighbour.id, ip=seen.ip, at=seen.at - timedelta(hours=1)))
    admin = make.user(Role.ADMIN)
    make.session.commit()
    login(rep)
    page = client.get(f"/fraud/cases/{case.id}").get_data(as_text=True)
    assert "общий с 1 другим участником за 30 дней" in page and seen.ip not in page
    client.post("/logout")
    g.pop("_login_user", None)
    login(admin)
    assert seen.ip in client.get(f"/fraud/cases/{case.id}").get_data(as_text=True)
