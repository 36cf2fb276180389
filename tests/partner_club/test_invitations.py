"""Invitations and sign-up: services directly, pages through the client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partner_club.accounts import invitations as inv
from partner_club.accounts import signup
from partner_club.accounts.models import Invitation, InvitationUse, Role, User, UserStatus
from partner_club.database import utcnow
from partner_club.errors import Conflict, Forbidden, Invalid
from partner_club.outlets.models import Outlet

GOOD_INN10 = "7707083893"  # Sberbank: a real, valid company INN
GOOD_INN12 = "500100732259"  # a valid personal INN


@pytest.fixture
def ctx(app, db):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def person(login="+7 912 345-67-89", password="secret-pass-1", again=None, name="Anna Petrova"):
    return signup.PersonDetails(
        full_name=name, login=login, password=password, password_again=password if again is None else again
    )


def shop(region, **kw):
    values = dict(
        trade_name="Romashka",
        legal_name="LLC Romashka",
        tax_number=GOOD_INN10,
        address="Kazan, Bauman st. 1",
        region_id=region.id,
        lat=55.79,
        lon=49.12,
    )
    values.update(kw)
    return signup.ShopDetails(**values)


def counts(db):
    return (
        db.session.scalar(select(func.count(User.id))),
        db.session.scalar(select(func.count(Outlet.id))),
        db.session.scalar(select(func.count(InvitationUse.id))),
    )


# --- codes and INN -----------------------------------------------------------


def test_codes_are_crockford_and_read_forgivingly():
    code = inv.new_code()
    assert len(code) == 10 and set(code) <= set(inv.ALPHABET)
    assert inv.normalize_code(" 0ab1c-de9fk ") == "0AB1CDE9FK"
    assert inv.normalize_code("oab1c-dE9fl") == "0AB1CDE9F1"
    assert inv.normalize_code("ВАС12-КМНРТ") == "BAC12KMHPT"  # Cyrillic look-alikes
    assert inv.normalize_code("http://club.test/join/ABCDE12345") == "ABCDE12345"


@pytest.mark.parametrize("raw", [GOOD_INN10, GOOD_INN12, " 7707 083893 "])
def test_valid_inn(ctx, raw):
    assert signup.validate_inn(raw) == raw.replace(" ", "")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("7707083894", "inn_checksum"),
        ("500100732258", "inn_checksum"),
        ("12345", "inn_format"),
        ("77070838AB", "inn_format"),
    ],
)
def test_bad_inn(ctx, raw, code):
    with pytest.raises(Invalid) as refused:
        signup.validate_inn(raw)
    assert refused.value.code == code


def test_position_must_be_plausible(ctx, make):
    region = make.region()  # bbox 48-50 E, 55-56.5 N
    signup.check_position(55.8, 49.1, region)
    signup.check_position(None, None, region)
    for lat, lon in [(0.0, 0.0), (55.8, None), (55.8, 37.6), (91.0, 49.0)]:
        with pytest.raises(Invalid):
            signup.check_position(lat, lon, region)


# --- issuing -------------------------------------------------------------------


def test_rep_issues_cards_only_for_own_territory(ctx, make, db):
    rep, territory, _ = make.rep_with_outlet()
    _other_rep, other_territory, _ = make.rep_with_outlet()
    cards = inv.issue_outlet_invitations(db.session, rep, territory, count=3, valid_days=10)
    assert len({c.code for c in cards}) == 3 and len({c.batch for c in cards}) == 1
    assert all(c.max_uses == 1 and c.territory_id == territory.id for c in cards)
    assert cards[0].expires_at - cards[0].created_at == timedelta(days=10)
    with pytest.raises(Forbidden):
        inv.issue_outlet_invitations(db.session, rep, other_territory, count=1, valid_days=10)
    with pytest.raises(Invalid):
        inv.issue_outlet_invitations(db.session, rep, territory, count=0, valid_days=10)
    with pytest.raises(Invalid):
        inv.issue_outlet_invitations(db.session, rep, territory, count=1, valid_days=0)


# --- signing up ------------------------------------------------------------------


def test_shop_sign_up_creates_shop_and_owner_and_uses_the_card(ctx, make, db):
    rep, territory, _ = make.rep_with_outlet()
    card = inv.issue_outlet_invitations(db.session, rep, territory, count=1, valid_days=10)[0]
    owner = signup.sign_up_shop(db.session, card.code.lower(), shop(territory.region), person())
    assert owner.role == Role.OWNER.value and owner.login == "+79123456789"
    assert owner.outlet.tax_number == GOOD_INN10 and owner.outlet.territory_id == territory.id
    assert card.uses == 1 and inv.state_of(card) == inv.InvitationState.USED
    rows = inv.invitations_for(db.session, rep)
    assert rows[0].joined == [owner]
    with pytest.raises(Invalid) as refused:
        signup.sign_up_shop(db.session, card.code, shop(territory.region), person(login="b@example.com"))
    assert refused.value.code == "invitation_used"


def test_individual_sign_up_hangs_on_territory(ctx, make, db):
    rep, territory, _ = make.rep_with_outlet()
    card = inv.issue_outlet_invitations(db.session, rep, territory, count=1, valid_days=10)[0]
    user = signup.sign_up_individual(db.session, card.code, person(login="solo@example.com"))
    assert user.role == Role.SELLER.value and user.outlet_id is None and user.territory_id == territory.id
    assert user.status == UserStatus.ACTIVE.value


def test_expired_and_revoked_and_unknown_codes_are_refused(ctx, make, db):
    rep, territory, _ = make.rep_with_outlet()
    old, revoked = inv.issue_outlet_invitations(db.session, rep, territory, count=2, valid_days=1)
    old.expires_at = utcnow() - timedelta(minutes=1)
    inv.revoke_invitation(db.session, revoked, actor=rep)
    for code, reason in [
        (old.code, "invitation_expired"),
        (revoked.code, "invitation_revoked"),
        ("ZZZZZZZZZZ", "invitation_unknown"),
    ]:
        with pytest.raises(Invalid) as refused:
            signup.sign_up_individual(db.session, code, person())
        assert refused.value.code == reason


def test_bad_sign_up_writes_nothing(ctx, make, db):
    rep, territory, _ = make.rep_with_outlet()
    taken = make.user(Role.SELLER, login="+79123456789")
    card = inv.issue_outlet_invitations(db.session, rep, territory, count=1, valid_days=10)[0]
    db.session.commit()
    before = counts(db)
    attempts = [
        (shop(territory.region), person(), "login_taken"),
        (shop(territory.region), person(login="not-an-email@"), "email_invalid"),
        (shop(territory.region), person(login="+7 12"), "phone_invalid"),
        (shop(territory.region), person(login="hello"), "login_invalid"),
        (shop(territory.region, tax_number="7707083894"), person(login="x@example.com"), "inn_checksum"),
        (shop(territory.region), person(login="x@example.com", again="other-pass-1"), "password_mismatch"),
        (shop(territory.region, lat=10.0), person(login="x@example.com"), "position_range"),
    ]
    for details, who, reason in attempts:
        with pytest.raises((Invalid, Conflict)) as refused:
            signup.sign_up_shop(db.session, card.code, details, who)
        db.session.rollback()
        assert refused.value.code == reason
        assert counts(db) == before
    assert db.session.get(Invitation, card.id).uses == 0
    assert taken.id


# --- sellers -------------------------------------------------------------------------


def test_seller_code_is_multi_use_and_sellers_wait_for_approval(ctx, make, db):
    _rep, territory, outlet = make.rep_with_outlet()
    owner = make.user(Role.OWNER, outlet=outlet)
    code = inv.issue_seller_invitation(db.session, owner, valid_days=7)
    first = signup.sign_up_seller(db.session, code.code, person(login="s1@example.com"))
    second = signup.sign_up_seller(db.session, code.code, person(login="s2@example.com"))
    assert first.status == second.status == UserStatus.PENDING.value and first.is_pending
    assert first.outlet_id == outlet.id and code.uses == 2
    signup.approve_seller(db.session, owner, first)
    assert first.status == UserStatus.ACTIVE.value
    signup.remove_seller(db.session, owner, second)
    assert second.outlet_id is None and second.territory_id == territory.id
    assert [p.id for p in signup.sellers_of(db.session, outlet)] == [first.id]
    renewed = inv.issue_seller_invitation(db.session, owner, valid_days=7)
    assert code.revoked_at is not None and inv.active_seller_invitation(db.session, outlet) is renewed


def test_owner_cannot_touch_another_shops_seller(ctx, make, db):
    owner = make.user(Role.OWNER)
    stranger = make.user(Role.SELLER)
    with pytest.raises(Forbidden):
        signup.approve_seller(db.session, owner, stranger)
    with pytest.raises(Forbidden):
        signup.remove_seller(db.session, owner, stranger)


def test_seller_moves_to_another_shop_one_at_a_time(ctx, make, db):
    _rep, territory, outlet = make.rep_with_outlet()
    other = make.outlet(territory=territory)
    seller = make.user(Role.SELLER, outlet=outlet)
    other_owner = make.user(Role.OWNER, outlet=other)
    code = inv.issue_seller_invitation(db.session, other_owner, valid_days=7)
    signup.move_to_shop(db.session, seller, code.code)
    assert seller.outlet_id == other.id and seller.is_pending


def test_two_people_racing_for_one_card_only_one_wins(app, ctx, make, db):
    """Both see the card unused; the conditional UPDATE lets only the first claim count."""
    rep, territory, _ = make.rep_with_outlet()
    card = inv.issue_outlet_invitations(db.session, rep, territory, count=1, valid_days=5)[0]
    db.session.commit()
    first, second = Session(db.engine), Session(db.engine)
    try:
        seen_by_first = inv.find_invitation(first, card.code)
        seen_by_second = inv.find_invitation(second, card.code)
        second.rollback()  # SQLite: end the reader's snapshot; PostgreSQL does not need it
        winner = signup.sign_up_individual(first, seen_by_first.code, person(login="one@example.com"))
        first.commit()
        winner_id = winner.id
        with pytest.raises(Conflict):
            loser = User(login="two@example.com", role="seller", territory_id=territory.id, password_hash="x")
            second.add(loser)
            second.flush()
            inv.claim(second, seen_by_second, loser)
        second.rollback()
    finally:
        first.close()
        second.close()
    db.session.expire_all()
    assert db.session.get(Invitation, card.id).uses == 1
    assert db.session.scalars(select(InvitationUse.user_id)).all() == [winner_id]
