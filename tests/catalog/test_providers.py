"""Providers, and the gift-card one against a real HTTP server started here."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from catalog import fulfilment
from catalog.jobs import schedule_submission
from catalog.models import GiftCardDelivery, ProviderStatus
from catalog.providers import (
    PROVIDERS,
    GiftCardHttpProvider,
    ProviderRefused,
    ProviderUnavailable,
    WarehouseProvider,
    get_provider,
)
from catalog.services import Item, cancel_order, place_order
from partner_club.accounts.models import Role
from partner_club.ledger.services import balance_of
from partner_club.notifications.models import Notification
from tests.catalog.conftest import ADDRESS, PHONE, points_check


class GiftCardService:
    """A tiny external showcase: modes "ok", "processing", "refuse", "error", "slow"."""

    def __init__(self) -> None:
        self.mode = "ok"
        # "slow" holds its answer until the test lets it go: the client's timeout fires first,
        # whatever the machine's speed, and no test sleeps.
        self.answer_late = threading.Event()
        self.orders: dict[str, dict] = {}  # by our reference
        self.requests: list[tuple[str, str]] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except BrokenPipeError:  # the client gave up waiting (the timeout tests)
                    pass

            def do_GET(self):
                service.requests.append(("GET", self.path))
                if service.mode == "error":
                    return self._send(503, {"error": "down"})
                if self.path == "/goods":
                    return self._send(
                        200,
                        {
                            "goods": [
                                {"sku": "OZON-1000", "name": "Ozon 1000", "price_rub": 1000, "available": 7}
                            ]
                        },
                    )
                for order in service.orders.values():
                    if self.path == f"/orders/{order['id']}":
                        order.update(status="done", cards=[{"code": "LATE-CODE-1", "link": None}])
                        return self._send(200, order)
                return self._send(404, {"error": "no such order"})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                service.requests.append(("POST", self.path))
                if service.mode == "error":
                    return self._send(500, {"error": "boom"})
                if service.mode == "refuse":
                    return self._send(409, {"error": "sku sold out"})
                order = service.orders.get(body["reference"])
                if order is None:  # a known reference is a replay, never a second purchase
                    n = len(service.orders) + 1
                    order = {
                        "id": f"ext-{n}",
                        "status": "done",
                        "cards": [
                            {"code": f"GIFT-{n}-{i}", "link": f"https://cards.example/{n}/{i}"}
                            for i in range(body["quantity"])
                        ],
                    }
                    if service.mode == "processing":
                        order.update(status="processing", cards=[])
                    service.orders[body["reference"]] = order
                if service.mode == "slow":
                    service.answer_late.wait(30)  # the order exists, but the answer comes too late
                return self._send(201, order)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.answer_late.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def giftcards(app, monkeypatch):
    with GiftCardService() as service:
        monkeypatch.setitem(app.config, "GIFTCARD_URL", service.url)
        monkeypatch.setitem(app.config, "GIFTCARD_TIMEOUT", 0.5)
        yield service


@pytest.fixture
def card_prize(cat):
    return cat.prize(
        points=400,
        stock=10,
        provider="giftcard_http",
        provider_sku="OZON-1000",
        category=cat.category(kind="gift_card"),
        name_en="Ozon card",
        name_ru="Карта Ozon",
    )


def order_card(db, person, prize, quantity=1):
    order = place_order(db.session, person, [Item(prize.id, quantity)], address=ADDRESS, phone=PHONE).order
    schedule_submission(db.session, order)
    db.session.commit()
    return order


def test_registry_has_both_providers(app):
    assert set(PROVIDERS) >= {"warehouse", "giftcard_http"}
    assert isinstance(get_provider("warehouse", app.config), WarehouseProvider)
    assert get_provider("warehouse", app.config).place_order("r", "s", 1).status == "manual"
    with pytest.raises(ProviderRefused):
        get_provider("nobody", app.config)


def test_http_provider_lists_places_and_reads(giftcards, app):
    provider = GiftCardHttpProvider(app.config)
    goods = provider.list_goods()
    assert goods[0].sku == "OZON-1000" and goods[0].available == 7
    placed = provider.place_order("ref-1", "OZON-1000", 2)
    assert placed.status == "done" and [c.code for c in placed.cards] == ["GIFT-1-0", "GIFT-1-1"]
    assert provider.place_order("ref-1", "OZON-1000", 2).external_id == placed.external_id
    assert provider.order_status(placed.external_id).external_id == placed.external_id


def test_http_provider_failures_are_classified(giftcards, app, monkeypatch):
    provider = GiftCardHttpProvider(app.config)
    giftcards.mode = "error"
    with pytest.raises(ProviderUnavailable):
        provider.place_order("r", "OZON-1000", 1)
    giftcards.mode = "refuse"
    with pytest.raises(ProviderRefused):
        provider.place_order("r", "OZON-1000", 1)
    giftcards.mode = "slow"
    with pytest.raises(ProviderUnavailable, match="timed out"):
        provider.place_order("r2", "OZON-1000", 1)
    monkeypatch.setitem(app.config, "GIFTCARD_URL", "http://127.0.0.1:9")  # nobody listens
    with pytest.raises(ProviderUnavailable):
        provider.list_goods()


def test_gift_card_order_is_delivered_with_codes_and_notified(
    db, cat, card_prize, giftcards, work_jobs, caplog
):
    person = cat.participant(1000)
    db.session.commit()
    with caplog.at_level(logging.INFO, logger="partner_club.notifications.services"):
        order = order_card(db, person, card_prize, 2)
        work_jobs()
    db.session.expire_all()
    assert order.status == "delivered" and order.delivered_at is not None
    codes = db.session.scalars(select(GiftCardDelivery.code).order_by(GiftCardDelivery.id)).all()
    assert codes == ["GIFT-1-0", "GIFT-1-1"]
    assert balance_of(db.session, person).active == 200
    # The codes reach the person as an urgent notification linking to the order.
    [notice] = db.session.scalars(select(Notification).where(Notification.kind == "giftcard.issued")).all()
    assert (notice.user_id, notice.link) == (person.id, f"/prizes/orders/{order.id}")
    assert notice.params["codes"] == "GIFT-1-0, GIFT-1-1"
    assert not any(person.email in r.getMessage() for r in caplog.records)  # the log keeps the address masked


def test_refusal_cancels_and_refunds(db, cat, card_prize, giftcards, work_jobs):
    person = cat.participant(1000)
    db.session.commit()
    giftcards.mode = "refuse"
    order = order_card(db, person, card_prize)
    work_jobs()
    db.session.expire_all()
    assert order.status == "cancelled" and order.refunded and order.cancel_reason
    assert order.lines[0].provider_status == ProviderStatus.FAILED.value
    assert balance_of(db.session, person).active == 1000
    assert card_prize.stock == 10


def test_timeout_keeps_points_reserved_and_retry_finds_the_late_order(
    db, app, cat, card_prize, giftcards, work_jobs
):
    person = cat.participant(1000)
    db.session.commit()
    giftcards.mode = "slow"
    order = order_card(db, person, card_prize)
    work_jobs()
    db.session.expire_all()
    line = order.lines[0]
    assert order.status == "placed" and line.provider_status == "retry" and line.provider_attempts == 1
    assert balance_of(db.session, person).active == 600  # reserved, not lost
    giftcards.mode = "ok"
    assert fulfilment.orders_waiting_for_providers(db.session) == [order.id]
    fulfilment.submit_to_providers(db.session, order.id, app.config)
    db.session.commit()
    assert order.status == "delivered" and len(giftcards.orders) == 1  # bought once
    assert [c.code for c in order.lines[0].gift_cards] == ["GIFT-1-0"]
    points_check(app)


def test_provider_that_never_answers_is_given_up_with_a_refund(db, cat, card_prize, giftcards, app):
    person = cat.participant(1000)
    giftcards.mode = "error"
    order = place_order(db.session, person, [Item(card_prize.id, 1)], address=ADDRESS, phone=PHONE).order
    db.session.commit()
    for _attempt in range(fulfilment.MAX_ATTEMPTS):
        assert order.status == "placed" and balance_of(db.session, person).active == 600
        fulfilment.submit_to_providers(db.session, order.id, app.config)
        db.session.commit()
    assert order.status == "cancelled" and order.refunded
    assert balance_of(db.session, person).active == 1000
    points_check(app)


def test_processing_then_status_poll_delivers(db, cat, card_prize, giftcards, app):
    person = cat.participant(1000)
    giftcards.mode = "processing"
    order = place_order(db.session, person, [Item(card_prize.id, 1)], address=ADDRESS, phone=PHONE).order
    db.session.commit()
    fulfilment.submit_to_providers(db.session, order.id, app.config)
    db.session.commit()
    assert order.status == "placed" and order.lines[0].provider_status == "placed"
    fulfilment.submit_to_providers(db.session, order.id, app.config)
    db.session.commit()
    assert order.status == "delivered" and order.lines[0].gift_cards[0].code == "LATE-CODE-1"


def test_mixed_order_cancelled_after_the_card_came_refunds_only_the_rest(
    db, app, make, cat, card_prize, giftcards
):
    admin = make.user(Role.ADMIN)
    person = cat.participant(1000)
    mug = cat.prize(points=100, stock=5)
    order = place_order(
        db.session, person, [Item(mug.id, 1), Item(card_prize.id, 1)], address=ADDRESS, phone=PHONE
    ).order
    db.session.commit()
    fulfilment.submit_to_providers(db.session, order.id, app.config)
    db.session.commit()
    assert order.status == "placed"  # the mug still waits for the warehouse
    assert balance_of(db.session, person).active == 500
    cancel_order(db.session, order.id, reason="the mug is broken", actor=admin)
    db.session.commit()
    assert balance_of(db.session, person).active == 600  # the delivered card is not refunded
    assert card_prize.stock == 9 and mug.stock == 5
    points_check(app)
