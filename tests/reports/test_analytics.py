from datetime import timedelta

from sqlalchemy import select

from codes.models import BatchStatus
from partner_club.accounts.models import Role
from partner_club.database import utcnow
from partner_club.ledger import services as ledger
from reports.analytics import programme_summary, rfm_segments
from reports.models import Subscription
from tests.codes.helpers import batch, product
from tests.reports.helpers import land, utc


def test_programme_summary_reads_rollups_ledger_and_batches(app, db, make):
    now = utc(2026, 3, 15)
    busy, quiet, _idle = (make.outlet(created_at=utc(2025, 1, 1)) for _ in range(3))
    for months_back in range(8):
        land(
            db.session,
            busy,
            at=utc(2026, 3, 1) - timedelta(days=31 * months_back) + timedelta(days=2),
            volume=1.0,
            times=2,
        )
    land(db.session, quiet, at=utc(2025, 6, 10), volume=0.5)
    owner = make.user(Role.OWNER, outlet=busy)
    account = ledger.account_for_user(db.session, owner)
    ledger.accrue(db.session, account, 100, cause_type="registration", cause_id=1, at=utc(2026, 3, 2))
    ledger.spend(db.session, account, 40, cause_type="order", cause_id=1)
    paint = product(db.session, volume=0.5)
    shipped = batch(db.session, paint, count=20, status=BatchStatus.ACTIVATED)
    shipped.activated_at = utc(2026, 3, 1)
    db.session.flush()

    summary = programme_summary(db.session, now=now)
    assert summary.months[-1].isoformat() == "2026-03-01"
    assert summary.enrolled[-1] == 3 and summary.active[-1] == 1
    assert summary.participation[-1] == 33.3
    assert summary.liability_now == 60
    assert summary.shipped_m3[-1] == 10.0 and summary.registered_m3[-1] == 2.0
    assert summary.penetration is not None
    segments = summary.segments_now
    assert segments["never"] == 1 and segments["sleeping"] == 1
    assert sum(segments.values()) == 3


def test_rfm_new_shop(db, make):
    shop = make.outlet()
    land(db.session, shop, at=utc(2026, 3, 3))
    assert rfm_segments(db.session, as_of=utc(2026, 3, 1).date())["new"] == 1


def test_analytics_page_for_head_office_only(client, db, make, login):
    head = make.user(Role.HEAD_OFFICE)
    rep = make.user(Role.REP)
    make.session.commit()
    login(head)
    page = client.get("/reports/analytics").get_data(as_text=True)
    assert "<svg" in page and "RFM" in page
    client.post("/logout")
    login(rep)
    assert client.get("/reports/analytics").status_code == 403


def test_subscribing_from_the_page(client, db, make, login):
    rep = make.user(Role.REP, email="rep@example.com")
    make.territory(make.region(), rep=rep)
    make.session.commit()
    login(rep)
    assert (
        client.post("/reports/subscriptions", data={"frequency": "weekly", "action": "subscribe"}).status_code
        == 302
    )
    assert db.session.scalar(select(Subscription.frequency)) == "weekly"
    client.post("/reports/subscriptions", data={"frequency": "weekly", "action": "cancel"})
    assert db.session.scalar(select(Subscription.frequency)) is None


def test_the_page_says_when_reports_wait_for_a_confirmed_e_mail(client, db, make, login):
    region = make.region()
    manager = make.user(Role.REGIONAL_MANAGER, email="boss@example.com", locale="en", region_id=region.id)
    rep = make.user(Role.REP, email="rep@example.com")
    make.territory(region, rep=rep)
    make.session.commit()
    login(manager)
    page = client.get("/reports/subscriptions", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Reports go only to an e-mail address you confirmed." in page
    assert "e-mail not confirmed" in page
    manager.email_confirmed_at = rep.email_confirmed_at = utcnow()
    make.session.commit()
    page = client.get("/reports/subscriptions", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Reports go only to" not in page and "e-mail not confirmed" not in page


def test_shop_card_shows_chart_and_orders(client, db, make, login):
    rep, _territory, shop = make.rep_with_outlet()
    land(db.session, shop, at=utc(2026, 2, 3), sku="PAINT-10L", times=2)
    land(db.session, shop, at=utc(2026, 3, 3), sku="GLUE-1", product_id=2)
    make.session.commit()
    login(rep)
    page = client.get(f"/reports/shop/{shop.id}?period=2026-03").get_data(as_text=True)
    assert "<svg" in page and "PAINT-10L" in page and "GLUE-1" in page
    assert "2026-03-03" in page  # last registration
