"""Each event the packages raise: one notification, for the right person, with the right link,
rendered in that person's language; none when the transaction rolls back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from catalog.services import Item, cancel_order, confirm_order, deliver_order, place_order, ship_order
from codes.models import Batch, BatchStatus, Product
from codes.services import RegistrationContext, batch_code, register_code
from fraud.review import decide_case
from partner_club.accounts.invitations import issue_seller_invitation
from partner_club.accounts.models import Role
from partner_club.accounts.signup import PersonDetails, approve_seller, sign_up_seller
from partner_club.campaigns import kinds as campaign_kinds
from partner_club.campaigns.models import Campaign
from partner_club.database import utcnow
from partner_club.jobs.models import Job
from partner_club.ledger.announce import announce_expiring
from partner_club.ledger.credits import credit
from partner_club.notifications.models import Notification
from partner_club.notifications.services import render
from tests.catalog.conftest import ADDRESS, PHONE, CatalogFactories
from tests.fraud.test_views import held_registration


@pytest.fixture
def cat(make) -> CatalogFactories:
    return CatalogFactories(make)


def _notices(db, kind: str | None = None) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query))


def _only(db, kind: str) -> Notification:
    found = _notices(db, kind)
    assert len(found) == 1, [n.kind for n in _notices(db)]
    return found[0]


def test_a_held_registration_tells_the_seller_and_the_review_tells_the_outcome(make, db):
    seller, case = held_registration(make)
    held = _only(db, "points.held")
    assert (held.user_id, held.link, held.params["points"]) == (seller.id, "/codes/registrations", 40)
    assert _notices(db, "points.credited") == []
    admin = make.user(Role.ADMIN)
    seller.locale = "ru"
    decide_case(db.session, case, reviewer=admin, decision="reject", note="рулон этикеток")
    rejected = _only(db, "review.rejected")
    assert (rejected.user_id, rejected.link) == (seller.id, "/codes/registrations")
    title, body = render(rejected, seller.locale)
    assert title == "Ваш код не прошёл проверку" and "рулон этикеток" in body


def test_an_accepted_review_and_credited_points(make, db):
    seller, case = held_registration(make)
    decide_case(db.session, case, reviewer=make.user(Role.ADMIN), decision="accept")
    accepted = _only(db, "review.accepted")
    assert accepted.user_id == seller.id
    assert render(accepted, "en")[0] == "Your code passed the check"


def test_credited_points_are_told_with_a_link_to_the_balance(make, db):
    shop = make.outlet()
    seller = make.user(Role.SELLER, outlet=shop, locale="ru")
    product = Product(sku="BAG-OK", name="Bag 50 kg", rule_value=40)
    db.session.add(product)
    db.session.flush()
    batch = Batch(
        number=77,
        product_id=product.id,
        key_version=1,
        count=100,
        region_id=shop.region_id,
        status=BatchStatus.ACTIVATED.value,
    )
    db.session.add(batch)
    db.session.flush()
    result = register_code(
        db.session, seller, batch_code(batch, 3), channel="typed", ctx=RegistrationContext(ip="10.0.0.1")
    )
    assert result.status == "accepted", result
    credited = _only(db, "points.credited")
    assert (credited.user_id, credited.link, credited.params["points"]) == (seller.id, "/points/", 40)
    assert render(credited, "ru")[0] == "+40 баллов"


def test_a_rolled_back_transaction_tells_nobody(make, db):
    owner = make.user(Role.OWNER)
    code = issue_seller_invitation(db.session, owner, valid_days=7).code
    db.session.commit()
    details = PersonDetails(
        full_name="Ivan", login="+79123450001", password="long-password-1", password_again="long-password-1"
    )
    sign_up_seller(db.session, code, details)
    assert len(_notices(db, "seller.waiting")) == 1  # written in the transaction...
    db.session.rollback()
    assert _notices(db) == []  # ...and gone with it
    assert db.session.scalar(select(func.count(Job.id))) == 0  # no delivery was started


def test_points_about_to_expire_are_announced_in_the_persons_language(make, db):
    person = make.user(Role.SELLER, locale="ru")
    now = utcnow()
    credit(
        db.session,
        person,
        70,
        cause_type="adjustment",
        cause_id=None,
        kind="adjustment",
        at=now - timedelta(days=350),
    )
    told = announce_expiring(db.session, now + timedelta(days=10))
    if told == 0:
        pytest.skip("the club's expiry setting gives these points no date")
    notice = _only(db, "points.expiring")
    assert (notice.user_id, notice.link) == (person.id, "/points/")
    title, body = render(notice, "ru")
    assert title == "Срок ваших баллов скоро истекает" and "70" in body


def test_an_orders_every_status_is_told_once(make, db, cat):
    person = cat.participant(1000)
    prize = cat.prize(points=100)
    order = place_order(db.session, person, [Item(prize.id, 1)], address=ADDRESS, phone=PHONE).order
    staff = make.user(Role.ADMIN)
    confirm_order(db.session, order.id, actor=staff)
    ship_order(db.session, order.id, tracking_number="RR123456", actor=staff)
    deliver_order(db.session, order.id, actor=staff)
    kinds = [n.kind for n in _notices(db) if n.user_id == person.id]
    assert kinds == ["order.confirmed", "order.shipped", "order.delivered"]
    shipped = _only(db, "order.shipped")
    assert shipped.link == f"/prizes/orders/{order.id}"
    assert render(shipped, "en") == (f"Order {order.id} is on its way", "Tracking number: RR123456.")
    other = place_order(db.session, person, [Item(prize.id, 1)], address=ADDRESS, phone=PHONE).order
    cancel_order(db.session, other.id, reason="Out of stock.", actor=staff)
    cancelled = _only(db, "order.cancelled")
    assert cancelled.user_id == person.id and "Out of stock." in render(cancelled, "en")[1]


def test_a_waiting_seller_is_told_to_the_owner_and_the_approval_to_the_seller(make, db):
    owner = make.user(Role.OWNER, locale="ru")
    invitation = issue_seller_invitation(db.session, owner, valid_days=7)
    seller = sign_up_seller(
        db.session,
        invitation.code,
        PersonDetails(
            full_name="Ivan Petrov",
            login="+79123450000",
            password="long-password-1",
            password_again="long-password-1",
        ),
    )
    waiting = _only(db, "seller.waiting")
    assert (waiting.user_id, waiting.link) == (owner.id, "/shop/sellers")
    assert render(waiting, "ru")[0] == "Ivan Petrov ждёт вашего одобрения"
    approve_seller(db.session, owner, seller)
    approved = _only(db, "account.approved")
    assert approved.user_id == seller.id


def test_a_campaign_launch_tells_its_audience_once(make, db, monkeypatch):
    shop = make.outlet()
    people = [make.user(Role.SELLER, outlet=shop) for _ in range(3)]
    outsider = make.user(Role.SELLER)
    campaign = _campaign(make, shop)
    campaign_kinds.announce_launch(db.session, campaign)
    campaign_kinds.announce_launch(db.session, campaign)  # again: nobody twice
    told = sorted(n.user_id for n in _notices(db, "campaign.launched"))
    assert told == sorted(p.id for p in people) and outsider.id not in told
    assert render(_notices(db, "campaign.launched")[0], "en")[0] == f"New campaign: {campaign.name_en}"


def test_a_large_audience_is_told_by_a_job_once(make, db, monkeypatch, work_jobs):
    monkeypatch.setattr(campaign_kinds, "INLINE_LIMIT", 1)
    monkeypatch.setattr(campaign_kinds, "BATCH", 2)
    shop = make.outlet()
    people = [make.user(Role.SELLER, outlet=shop) for _ in range(5)]
    campaign = _campaign(make, shop)
    campaign_kinds.announce_launch(db.session, campaign)
    assert _notices(db) == []  # not in the launching transaction
    db.session.commit()
    work_jobs()
    campaign_kinds.announce_launch(db.session, campaign)  # a second run finds everyone told
    db.session.commit()
    work_jobs()
    db.session.expire_all()
    assert sorted(n.user_id for n in _notices(db, "campaign.launched")) == sorted(p.id for p in people)


def _campaign(make, shop):
    now = utcnow()
    campaign = Campaign(
        name_ru="Двойные баллы",
        name_en="Double points",
        status="running",
        mechanic="multiplier",
        value=2,
        starts_at=now,
        ends_at=now + timedelta(days=7),
        outlet_ids=[shop.id],
        time_zone="Europe/Moscow",
    )
    make.session.add(campaign)
    make.session.flush()
    return campaign
