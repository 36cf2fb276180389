"""SMS through one small provider interface, chosen by the SMS_PROVIDER setting.

- "http": any gateway taking POST JSON {"to", "text", "sender"} at SMS_URL with
  "Authorization: Bearer SMS_TOKEN"; a 2xx answer means accepted, and its
  "id" (or "message_id") field, if any, is the provider's id.
- "smsru": SMS.ru (Russia), https://sms.ru/sms/send, SMS_TOKEN is the api_id.
- "smsc": SMSC (smsc.kz for Kazakhstan, smsc.ru for Russia: set SMS_URL),
  /sys/send.php, SMS_TOKEN is the API key.

A provider returns an `SmsResult`: accepted with an id, or refused with a
reason and whether trying again later can help (a connection not made, 5xx, a busy
gateway) or not (a bad number, a forbidden text, no such account, or no answer
in time to a request the provider got: it may have sent the SMS already).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import phonenumbers
import requests

READ_TIMEOUT = "the SMS provider did not answer in time; it may have sent the SMS, so it is not sent again"

# GSM 03.38: the default alphabet (one septet each) and its extension table (two septets each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


def sms_parts(text: str) -> int:
    """How many SMS a text takes: GSM-7 160 (153 a part when split), else UCS-2 70 (67)."""
    if not text:
        return 0
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        septets = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2  # characters outside the BMP take two
    return 1 if units <= 70 else math.ceil(units / 67)


def normalise_phone(raw: str) -> str:
    """ "+7 (912) 345-67-89" -> "+79123456789"; a leading 8 of a Russian number becomes +7."""
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 11 and digits.startswith("8") and not raw.strip().startswith("+"):
        digits = "7" + digits[1:]
    return "+" + digits


def sms_countries(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The country calling codes SMS may go to (SMS_COUNTRIES, "7" by default: Russia and
    Kazakhstan): a one-time code sent to any number on earth is a bill anyone can run up."""
    raw = str(config.get("SMS_COUNTRIES") or "7")
    return tuple(code.strip().lstrip("+") for code in raw.split(",") if code.strip().lstrip("+").isdigit())


def sms_allowed(number: str, config: Mapping[str, Any]) -> bool:
    """Whether an SMS may go to `number` (any notation): its country code is in SMS_COUNTRIES."""
    try:
        parsed = phonenumbers.parse(normalise_phone(number), None)
    except phonenumbers.NumberParseException:
        return False
    return str(parsed.country_code) in sms_countries(config)


@dataclass
class SmsResult:
    accepted: bool
    provider_id: str | None = None
    reason: str | None = None
    retry: bool = False  # a passing trouble: the same message may go through later


class SmsProvider:
    name: ClassVar[str] = "base"
    default_url: ClassVar[str] = ""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.url = config.get("SMS_URL") or self.default_url
        self.token = config.get("SMS_TOKEN") or ""
        self.sender = config.get("SMS_SENDER") or ""
        timeout = float(config.get("SMS_TIMEOUT") or 10)
        self.timeout = (min(timeout, 5.0), timeout)

    def missing(self) -> str | None:
        """What setting is missing for this provider to work (None: ready)."""
        if not self.url:
            return "SMS_URL is not set"
        if not self.token:
            return "SMS_TOKEN is not set"
        return None

    def send(self, to: str, text: str) -> SmsResult:
        if not sms_allowed(to, self.config):
            return SmsResult(False, reason="the number's country is not in SMS_COUNTRIES")
        try:
            return self._send(normalise_phone(to), text)
        except requests.ConnectTimeout:  # the request never reached the provider
            return SmsResult(False, reason="the SMS provider could not be reached in time", retry=True)
        except requests.ReadTimeout:
            # The provider got the request and may have sent the SMS: sending again could send it
            # twice (and pay twice), so the next channel takes the message instead.
            return SmsResult(False, reason=READ_TIMEOUT)
        except requests.RequestException as error:
            return SmsResult(
                False, reason=f"the SMS provider is unreachable: {type(error).__name__}", retry=True
            )
        except ValueError:  # an answer that is not the JSON promised
            return SmsResult(False, reason="the SMS provider's answer could not be read", retry=True)

    def _send(self, to: str, text: str) -> SmsResult:
        raise NotImplementedError


def _http_refusal(response: requests.Response) -> SmsResult:
    retry = response.status_code >= 500 or response.status_code in (408, 429)
    return SmsResult(False, reason=f"the SMS provider answered HTTP {response.status_code}", retry=retry)


class HttpSmsProvider(SmsProvider):
    name = "http"

    def _send(self, to: str, text: str) -> SmsResult:
        response = requests.post(
            self.url,
            json={"to": to, "text": text, "sender": self.sender},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=self.timeout,
        )
        if not 200 <= response.status_code < 300:
            return _http_refusal(response)
        try:
            body = response.json()
        except ValueError:
            body = None
        found = body.get("id", body.get("message_id")) if isinstance(body, dict) else None
        return SmsResult(True, provider_id=str(found) if found is not None else None)


class SmsRuProvider(SmsProvider):
    """SMS.ru: answer {"status": "OK", "sms": {"7912...": {"status": "OK", "sms_id": "..."}}}."""

    name = "smsru"
    default_url = "https://sms.ru/sms/send"
    RETRY_CODES = frozenset({220, 230, 231, 232})  # the service is busy or limits are reached for now

    def _send(self, to: str, text: str) -> SmsResult:
        data = {"api_id": self.token, "to": to.lstrip("+"), "msg": text, "json": "1"}
        if self.sender:
            data["from"] = self.sender
        response = requests.post(self.url, data=data, timeout=self.timeout)
        if response.status_code != 200:
            return _http_refusal(response)
        body = response.json()
        answer = next(iter((body.get("sms") or {}).values()), None) or body
        if body.get("status") == "OK" and answer.get("status") == "OK":
            return SmsResult(True, provider_id=answer.get("sms_id"))
        code = int(answer.get("status_code") or body.get("status_code") or 0)
        text_of = answer.get("status_text") or body.get("status_text") or ""
        return SmsResult(
            False, reason=f"SMS.ru refused ({code}): {text_of}"[:500], retry=code in self.RETRY_CODES
        )


class SmscProvider(SmsProvider):
    """SMSC: fmt=3 answers {"id": ..., "cnt": ...} or {"error": "...", "error_code": N}."""

    name = "smsc"
    default_url = "https://smsc.kz/sys/send.php"
    RETRY_CODES = frozenset({3, 4, 9})  # no money yet, address blocked for a while, too many at once

    def _send(self, to: str, text: str) -> SmsResult:
        data = {"apikey": self.token, "phones": to, "mes": text, "fmt": "3", "charset": "utf-8"}
        if self.sender:
            data["sender"] = self.sender
        response = requests.post(self.url, data=data, timeout=self.timeout)
        if response.status_code != 200:
            return _http_refusal(response)
        body = response.json()
        if "error" in body or "error_code" in body:
            code = int(body.get("error_code") or 0)
            return SmsResult(
                False,
                reason=f"SMSC refused ({code}): {body.get('error', '')}"[:500],
                retry=code in self.RETRY_CODES,
            )
        return SmsResult(True, provider_id=str(body["id"]) if body.get("id") is not None else None)


PROVIDERS: dict[str, type[SmsProvider]] = {
    HttpSmsProvider.name: HttpSmsProvider,
    SmsRuProvider.name: SmsRuProvider,
    SmscProvider.name: SmscProvider,
}


def sms_provider(config: Mapping[str, Any]) -> SmsProvider | None:
    """The configured provider; None when SMS is not set up (no SMS_PROVIDER and no SMS_URL)."""
    name = config.get("SMS_PROVIDER") or ("http" if config.get("SMS_URL") else None)
    if not name:
        return None
    if name not in PROVIDERS:
        raise ValueError(f"SMS_PROVIDER must be one of {', '.join(PROVIDERS)}, not {name!r}")
    return PROVIDERS[name](config)
