"""Scopes: each role sees exactly its part of the club."""

from __future__ import annotations

from sqlalchemy import select

from partner_club.accounts.access import can_see_outlet, can_see_user, outlet_filter, user_filter
from partner_club.accounts.models import Role, User
from partner_club.outlets.models import Outlet


def _visible_outlets(db, user):
    return set(db.session.scalars(select(Outlet.id).where(outlet_filter(user))))


def test_each_role_sees_its_scope(db, make):
    rep_a, territory_a, shop_a = make.rep_with_outlet()
    rep_b = make.user(Role.REP)
    shop_b = make.outlet(territory=make.territory(region=territory_a.region, rep=rep_b))
    shop_c = make.outlet()  # another region
    manager = make.user(Role.REGIONAL_MANAGER, region_id=territory_a.region_id)
    head = make.user(Role.HEAD_OFFICE)
    owner = make.user(Role.OWNER, outlet=shop_a)
    seller = make.user(Role.SELLER, outlet=shop_a)

    assert _visible_outlets(db, rep_a) == {shop_a.id}
    assert _visible_outlets(db, rep_b) == {shop_b.id}
    assert _visible_outlets(db, manager) == {shop_a.id, shop_b.id}
    assert _visible_outlets(db, head) == {shop_a.id, shop_b.id, shop_c.id}
    assert _visible_outlets(db, owner) == {shop_a.id}
    assert _visible_outlets(db, seller) == {shop_a.id}
    assert not can_see_outlet(rep_a, shop_b) and can_see_outlet(manager, shop_b)
    assert not can_see_outlet(seller, shop_c)


def test_people_scope(db, make):
    rep, territory, shop = make.rep_with_outlet()
    owner = make.user(Role.OWNER, outlet=shop)
    seller = make.user(Role.SELLER, outlet=shop)
    loner = make.user(Role.SELLER, territory_id=territory.id)  # joined individually
    stranger = make.user(Role.SELLER)
    visible = set(db.session.scalars(select(User.id).where(user_filter(rep))))
    assert {owner.id, seller.id, loner.id} <= visible and stranger.id not in visible
    assert set(db.session.scalars(select(User.id).where(user_filter(owner)))) == {owner.id, seller.id}
    assert set(db.session.scalars(select(User.id).where(user_filter(seller)))) == {seller.id}
    assert can_see_user(rep, loner) and not can_see_user(seller, owner)
    assert not can_see_user(rep, stranger)
