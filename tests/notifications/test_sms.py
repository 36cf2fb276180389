"""SMS: parts counted as the networks bill them; each provider against a real local gateway."""

from __future__ import annotations

import pytest

from partner_club.notifications.sms import (
    HttpSmsProvider,
    SmscProvider,
    SmsRuProvider,
    normalise_phone,
    sms_parts,
    sms_provider,
)
from tests.notifications.servers import SmsGateway


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", 0),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # an extension character takes two septets
        ("€" * 81, 2),
        ("Баллы начислены" + "я" * 55, 1),  # 70 UCS-2 characters
        ("я" * 71, 2),
        ("я" * 134, 2),
        ("я" * 135, 3),
        ("Points: 50 😀", 1),  # one emoji makes it UCS-2, and takes two of its units
        ("a" * 69 + "😀", 2),
    ],
)
def test_sms_parts(text, parts):
    assert sms_parts(text) == parts


def test_phone_numbers_are_normalised():
    assert normalise_phone("+7 (912) 345-67-89") == "+79123456789"
    assert normalise_phone("8 912 345 67 89") == "+79123456789"
    assert normalise_phone("+7 701 234 56 78") == "+77012345678"


@pytest.fixture
def gateway():
    server = SmsGateway().start()
    yield server
    server.stop()


def _config(gateway, **extra):
    return {
        "SMS_URL": f"{gateway.url}/send",
        "SMS_TOKEN": "tok",
        "SMS_SENDER": "CLUB",
        "SMS_TIMEOUT": 1.0,
        **extra,
    }


def test_the_generic_provider_posts_json_with_the_bearer_token(gateway):
    provider = sms_provider(_config(gateway))
    assert isinstance(provider, HttpSmsProvider)
    result = provider.send("+7 912 345-67-89", "Баллы начислены")
    assert result.accepted and result.provider_id == "sms-1"
    [got] = gateway.received
    assert got.headers["Authorization"] == "Bearer tok"
    assert got.json() == {"to": "+79123456789", "text": "Баллы начислены", "sender": "CLUB"}


def test_the_generic_provider_accepts_a_2xx_without_an_id(gateway):
    gateway.body = {}
    result = sms_provider(_config(gateway)).send("+79123456789", "hi")
    assert result.accepted and result.provider_id is None


@pytest.mark.parametrize(
    ("mode", "retry", "reason"),
    [("error", True, "HTTP 500"), ("slow", False, "may have sent the SMS"), ("refuse", False, "HTTP 400")],
)
def test_the_generic_provider_reports_trouble(gateway, mode, retry, reason):
    gateway.mode, gateway.delay = mode, 2.5
    result = sms_provider(_config(gateway)).send("+79123456789", "hi")
    assert not result.accepted and result.retry is retry and reason in result.reason


def test_an_unreachable_provider_is_a_passing_trouble():
    result = sms_provider({"SMS_URL": "http://127.0.0.1:9/send", "SMS_TOKEN": "t", "SMS_TIMEOUT": 1.0}).send(
        "+79123456789", "hi"
    )
    assert not result.accepted and result.retry and "unreachable" in result.reason


def test_sms_ru_adapter(gateway):
    gateway.body = {
        "status": "OK",
        "status_code": 100,
        "sms": {"79123456789": {"status": "OK", "status_code": 100, "sms_id": "000000-10000000"}},
        "balance": 4122.56,
    }
    provider = sms_provider(_config(gateway, SMS_PROVIDER="smsru"))
    assert isinstance(provider, SmsRuProvider)
    result = provider.send("+79123456789", "Заказ отправлен")
    assert result.accepted and result.provider_id == "000000-10000000"
    form = gateway.received[0].form()
    assert form == {
        "api_id": "tok",
        "to": "79123456789",
        "msg": "Заказ отправлен",
        "json": "1",
        "from": "CLUB",
    }
    gateway.body = {
        "status": "OK",
        "status_code": 100,
        "sms": {"79123456789": {"status": "ERROR", "status_code": 207, "status_text": "нельзя отправлять"}},
    }
    refused = provider.send("+79123456789", "x")
    assert not refused.accepted and not refused.retry and "207" in refused.reason
    gateway.body = {"status": "ERROR", "status_code": 220, "status_text": "Сервис временно недоступен"}
    busy = provider.send("+79123456789", "x")
    assert not busy.accepted and busy.retry


def test_smsc_adapter(gateway):
    gateway.body = {"id": 204, "cnt": 1}
    provider = sms_provider(_config(gateway, SMS_PROVIDER="smsc"))
    assert isinstance(provider, SmscProvider)
    result = provider.send("+7 701 234 56 78", "Код подарочной карты")
    assert result.accepted and result.provider_id == "204"
    form = gateway.received[0].form()
    assert form["apikey"] == "tok" and form["phones"] == "+77012345678" and form["fmt"] == "3"
    assert form["mes"] == "Код подарочной карты" and form["charset"] == "utf-8" and form["sender"] == "CLUB"
    gateway.body = {"error": "invalid number", "error_code": 7}
    assert not provider.send("+77012345678", "x").retry
    gateway.body = {"error": "too many", "error_code": 9}
    assert provider.send("+77012345678", "x").retry


def test_no_provider_means_no_sms_and_a_bad_name_is_refused():
    assert sms_provider({}) is None
    with pytest.raises(ValueError, match="SMS_PROVIDER"):
        sms_provider({"SMS_PROVIDER": "pigeon"})


def test_an_sms_to_a_country_outside_sms_countries_is_refused_without_a_call(gateway):
    provider = sms_provider(_config(gateway))
    refused = provider.send("+44 7911 123456", "hi")  # a British mobile: premium routes cost
    assert not refused.accepted and not refused.retry
    assert "SMS_COUNTRIES" in refused.reason
    assert gateway.received == []
    wider = sms_provider(_config(gateway, SMS_COUNTRIES="7, +44"))
    assert wider.send("+44 7911 123456", "hi").accepted
    assert [got.json()["to"] for got in gateway.received] == ["+447911123456"]
