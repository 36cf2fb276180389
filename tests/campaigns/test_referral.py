"""The referral bonus: an owner's link brings in a new shop; the owner earns the admin's points
once that shop's first N registrations are accepted (held ones when accepted, rejected never)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from codes.models import RegistrationStatus
from codes.services import RegistrationContext, register_code, review_registration, store_registration
from partner_club.accounts import invitations as inv
from partner_club.accounts.models import Role
from partner_club.accounts.signup import PersonDetails, ShopDetails, sign_up_individual, sign_up_shop
from partner_club.campaigns.bonuses import BonusRule, store_rules
from partner_club.campaigns.models import BonusGrant
from partner_club.errors import Forbidden, Invalid
from partner_club.ledger.models import LedgerEntry
from partner_club.ledger.services import balance_of
from partner_club.signals import HOLD, Assessment, registration_checks
from tests.codes.helpers import batch, code

CTX = RegistrationContext(ip="10.0.0.7", device="pytest")
NEW_INN = "7707083893"  # a valid company INN
OTHER_INN = "500100732259"  # a valid sole trader's INN


def _rule(db, points=500, after=2):
    store_rules(
        db.session, welcome=BonusRule(), referral=BonusRule(points=points, after=after), actor_id=None
    )


def _shop(region_id, inn=NEW_INN):
    return ShopDetails(
        trade_name="New Paint",
        legal_name="OOO New Paint",
        tax_number=inn,
        address="Samara",
        region_id=region_id,
    )


def _person(login):
    return PersonDetails(
        full_name="New Owner", login=login, password="long enough pass", password_again="long enough pass"
    )


def _referral_code(db, owner):
    return inv.issue_referral_invitation(db.session, owner, valid_days=30).code


def test_a_shop_joining_through_the_link_records_its_referrer(db, make):
    owner = make.user(Role.OWNER, outlet=make.outlet(tax_number=OTHER_INN))
    new_owner = sign_up_shop(
        db.session, _referral_code(db, owner), _shop(owner.outlet.region_id), _person("new@example.com")
    )
    assert new_owner.outlet.referred_by_id == owner.id
    assert new_owner.outlet.territory_id == owner.outlet.territory_id
    assert new_owner.role == Role.OWNER.value


def test_a_new_link_replaces_the_old_one(db, make):
    owner = make.user(Role.OWNER)
    first = inv.issue_referral_invitation(db.session, owner, valid_days=30)
    second = inv.issue_referral_invitation(db.session, owner, valid_days=30)
    assert first.revoked_at is not None and inv.active_referral_invitation(db.session, owner) == second


def test_self_referral_and_existing_shops_are_refused(db, make):
    owner = make.user(Role.OWNER, outlet=make.outlet(tax_number=NEW_INN))
    make.outlet(tax_number=OTHER_INN)
    referral = _referral_code(db, owner)
    with pytest.raises(Invalid) as own:
        sign_up_shop(db.session, referral, _shop(owner.outlet.region_id, NEW_INN), _person("a@example.com"))
    assert own.value.code == "self_referral" and "прислал ссылку" in own.value.message
    with pytest.raises(Invalid) as existing:
        sign_up_shop(db.session, referral, _shop(owner.outlet.region_id, OTHER_INN), _person("b@example.com"))
    assert existing.value.code == "referral_existing_shop" and "уже в клубе" in existing.value.message
    with pytest.raises(Invalid) as individual:
        sign_up_individual(db.session, referral, _person("c@example.com"))
    assert individual.value.code == "referral_shop_only"


def test_only_a_shop_owner_gets_a_referral_link(db, make):
    seller = make.user(Role.SELLER)
    with pytest.raises(Forbidden):
        inv.issue_referral_invitation(db.session, seller, valid_days=30)


def _held(_attempt):
    return Assessment(decision=HOLD, score=0.8)


def test_the_bonus_waits_for_the_nth_accepted_registration_and_pays_once(db, make):
    _rule(db, points=500, after=3)
    referrer = make.user(Role.OWNER)
    shop = make.outlet(referred_by_id=referrer.id)
    seller = make.user(Role.SELLER, outlet=shop)
    issued = batch(db.session)
    store_registration(db.session, seller, issued, 1, channel="typed", ctx=CTX)
    registration_checks.connect(_held)
    try:  # two held: one rejected (never counts), one accepted later (counts then)
        rejected = register_code(db.session, seller, code(issued, 2), channel="typed", ctx=CTX)
        held = register_code(db.session, seller, code(issued, 3), channel="typed", ctx=CTX)
    finally:
        registration_checks.disconnect(_held)
    assert held.status == RegistrationStatus.PENDING_REVIEW.value
    review_registration(db.session, rejected.registration_id, decision="reject", reviewer=None)
    store_registration(db.session, seller, issued, 4, channel="typed", ctx=CTX)
    assert balance_of(db.session, referrer).active == 0  # 2 accepted, 1 held, 1 rejected
    review_registration(db.session, held.registration_id, decision="accept", reviewer=None)
    assert balance_of(db.session, referrer).active == 500
    store_registration(db.session, seller, issued, 5, channel="typed", ctx=CTX)
    assert balance_of(db.session, referrer).active == 500
    entry = db.session.scalars(select(LedgerEntry).where(LedgerEntry.cause_type == "referral")).one()
    assert entry.breakdown == [{"source": "referral", "points": 500}] and entry.cause_id == str(shop.id)


def test_no_bonus_without_a_referrer_or_a_rule(db, make):
    referrer = make.user(Role.OWNER)
    shop = make.outlet(referred_by_id=referrer.id)
    seller = make.user(Role.SELLER, outlet=shop)
    issued = batch(db.session)
    store_registration(db.session, seller, issued, 1, channel="typed", ctx=CTX)  # no rule yet
    _rule(db, points=500, after=1)
    plain = make.user(Role.SELLER, outlet=make.outlet())
    store_registration(db.session, plain, issued, 2, channel="typed", ctx=CTX)  # no referrer
    assert db.session.scalar(select(func.count()).select_from(BonusGrant)) == 0
    store_registration(db.session, seller, issued, 3, channel="typed", ctx=CTX)
    assert balance_of(db.session, referrer).active == 500


def test_the_history_names_the_shop(app, db, make, client, login):
    _rule(db, points=300, after=1)
    referrer = make.user(Role.OWNER)
    shop = make.outlet(referred_by_id=referrer.id, name="Kraski Volgi")
    store_registration(
        db.session, make.user(Role.SELLER, outlet=shop), batch(db.session), 1, channel="typed", ctx=CTX
    )
    db.session.commit()
    login(referrer)
    page = client.get("/points/history")
    assert "Kraski Volgi" in page.get_data(as_text=True)
    referral_page = client.get("/shop/referral").get_data(as_text=True)
    assert "Kraski Volgi" in referral_page and "300" in referral_page


def test_a_new_shop_signs_up_through_the_owners_link_in_the_browser_form(app, client, make, login, db):
    from flask import g

    from partner_club.outlets.models import Outlet
    from tests.partner_club.test_invitations_views import GOOD_INN, shop_form

    owner = make.user(Role.OWNER, outlet=make.outlet(tax_number=OTHER_INN))
    login(owner)
    assert client.post("/shop/referral", data={"valid_days": 10}).status_code == 302
    invitation = inv.active_referral_invitation(db.session, owner)
    own = client.get(f"/join/{invitation.code}", headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "your own referral link" in own.get_data(as_text=True)
    client.post("/logout")
    g.pop("_login_user", None)
    region = owner.outlet.region
    refused = client.post(
        f"/join/{invitation.code}", data=shop_form(invitation, region, tax_number=OTHER_INN, lat="", lon="")
    )
    assert "прислал ссылку" in refused.get_data(as_text=True)
    done = client.post(f"/join/{invitation.code}", data=shop_form(invitation, region, lat="", lon=""))
    assert done.status_code == 302
    shop = db.session.scalars(select(Outlet).where(Outlet.tax_number == GOOD_INN)).one()
    assert shop.referred_by_id == owner.id
