"""Fixtures for the notification tests: the stand-in servers, wired into the app's settings."""

from __future__ import annotations

import pytest

from tests.notifications.servers import PushService, SmsGateway, start_smtp


@pytest.fixture
def smtp(app):
    inbox, controller = start_smtp()
    saved = app.config["MAIL_SERVER"], app.config["MAIL_PORT"]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    yield inbox
    app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = saved
    controller.stop()


@pytest.fixture
def sms(app, monkeypatch):
    gateway = SmsGateway().start()
    for key, value in {
        "SMS_PROVIDER": "http",
        "SMS_URL": f"{gateway.url}/send",
        "SMS_TOKEN": "sms-secret",
        "SMS_SENDER": "CLUB",
        "SMS_TIMEOUT": 1.0,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    yield gateway
    gateway.stop()


@pytest.fixture
def push(app, monkeypatch):
    service = PushService().start()
    monkeypatch.setitem(app.config, "PUSH_ALLOW_LOCAL_ENDPOINTS", True)
    monkeypatch.setitem(app.config, "PUSH_CONTACT", "ops@club.test")
    yield service
    service.stop()


@pytest.fixture
def retry_at_once(app, monkeypatch):
    """Back-off of zero seconds: a retry is due as soon as the next run looks."""
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_INTERVALS", [0, 0])
