"""Web Push (VAPID): the club's keys, people's browser subscriptions, and sending to them.

The private key is VAPID_PRIVATE_KEY (base64url of the raw 32-byte P-256
key), created once in the instance folder like the club's other keys; the
page gets the public key to subscribe with. A push service answering 404 or
410 has dropped the subscription: it is marked expired and never used again.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from partner_club.database import utcnow
from partner_club.notifications.models import PushSubscription

PUSH_TTL_SECONDS = 24 * 3600
# Each message goes to every live browser of the person: a bound keeps that fan-out small.
MAX_LIVE_SUBSCRIPTIONS = 10


class SubscriptionRefused(ValueError):
    code = "bad_subscription"


def _b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _b64encode(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode("ascii")


def vapid_public_key(config: Mapping[str, Any]) -> str | None:
    """The applicationServerKey a browser subscribes with (base64url, uncompressed point)."""
    private = config.get("VAPID_PRIVATE_KEY")
    if not private:
        return None
    point = Vapid.from_string(private).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64encode(point)


# The browsers' push services: the only hosts the club posts a subscriber's message to. The
# subscriber chooses the address, so anything else (a name or number for the club's own
# network, a host that redirects there) is refused rather than judged.
PUSH_SERVICE_HOSTS = (
    "fcm.googleapis.com",  # Chrome, Edge on Android, Yandex Browser
    "updates.push.services.mozilla.com",  # Firefox
    ".push.apple.com",  # Safari
    ".notify.windows.com",  # Edge on Windows
)


def _check_endpoint(endpoint: str, config: Mapping[str, Any]) -> None:
    parts = urlsplit(endpoint)
    if config.get("PUSH_ALLOW_LOCAL_ENDPOINTS"):  # the tests' own push service on 127.0.0.1
        if parts.scheme in ("http", "https") and parts.hostname:
            return
        raise SubscriptionRefused("the push endpoint has no host")
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or parts.port not in (None, 443) or parts.username or parts.password:
        raise SubscriptionRefused("a push endpoint is an https:// address of the browser's push service")
    known = any(host == name or (name.startswith(".") and host.endswith(name)) for name in PUSH_SERVICE_HOSTS)
    if not known:
        raise SubscriptionRefused("the push endpoint is not a known browser push service")


def subscribe(
    session: Session, user_id: int, endpoint: str, p256dh: str, auth: str, *, config: Mapping[str, Any]
) -> PushSubscription:
    """Records (or moves to this person) a browser's subscription, after checking its keys."""
    if not isinstance(endpoint, str) or not 10 <= len(endpoint) <= 1000:
        raise SubscriptionRefused("the push endpoint is missing or too long")
    _check_endpoint(endpoint, config)
    try:
        key, secret = _b64decode(p256dh), _b64decode(auth)
    except (binascii.Error, ValueError, TypeError):
        raise SubscriptionRefused("the subscription's keys are not base64url") from None
    if len(key) != 65 or key[0] != 4 or len(secret) != 16:
        raise SubscriptionRefused("the subscription's keys are not a P-256 key and a 16-byte secret")
    row = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if row is None:
        row = PushSubscription(user_id=user_id, endpoint=endpoint, p256dh=p256dh, auth=auth)
        session.add(row)
    else:  # the same browser, now signed in as this person (or its keys renewed)
        row.user_id, row.p256dh, row.auth, row.expired_at = user_id, p256dh, auth, None
    session.flush()
    _expire_beyond_limit(session, user_id)
    return row


def _expire_beyond_limit(session: Session, user_id: int) -> None:
    """A person's browsers beyond MAX_LIVE_SUBSCRIPTIONS: the oldest stop receiving messages."""
    live = session.scalars(
        select(PushSubscription)
        .where(PushSubscription.user_id == user_id, PushSubscription.expired_at.is_(None))
        .order_by(PushSubscription.id.desc())
    ).all()
    for old in live[MAX_LIVE_SUBSCRIPTIONS:]:
        old.expired_at = utcnow()
    session.flush()


def unsubscribe(session: Session, user_id: int, endpoint: str | None = None) -> int:
    """Forgets the person's subscription at an endpoint (None: all of theirs). Returns how many."""
    query = delete(PushSubscription).where(PushSubscription.user_id == user_id)
    if endpoint is not None:
        query = query.where(PushSubscription.endpoint == endpoint)
    result = session.execute(query.execution_options(synchronize_session=False))
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass
class PushResult:
    status: str  # "sent", "expired", "retry" or "failed"
    reason: str | None = None
    location: str | None = None  # the push service's id of the message


def send_push(
    config: Mapping[str, Any], subscription: Mapping[str, str], payload: Mapping[str, Any]
) -> PushResult:
    """Encrypts the payload for one subscription (aes128gcm) and posts it with a VAPID signature."""
    contact = config.get("PUSH_CONTACT") or "club@localhost"
    timeout = float(config.get("PUSH_TIMEOUT") or 10)
    try:
        _check_endpoint(subscription["endpoint"], config)  # also those kept before this check
    except SubscriptionRefused as error:
        return PushResult("failed", reason=str(error))
    no_redirects = requests.Session()
    no_redirects.max_redirects = 0  # a push service answers; it never sends the club elsewhere
    try:
        response = webpush(
            subscription_info={
                "endpoint": subscription["endpoint"],
                "keys": {"p256dh": subscription["p256dh"], "auth": subscription["auth"]},
            },
            data=json.dumps(payload, ensure_ascii=False),
            vapid_private_key=Vapid.from_string(config["VAPID_PRIVATE_KEY"]),
            vapid_claims={
                "sub": contact if contact.startswith(("mailto:", "https:")) else f"mailto:{contact}"
            },
            timeout=timeout,
            ttl=PUSH_TTL_SECONDS,
            requests_session=no_redirects,
        )
    except WebPushException as error:
        status = getattr(error.response, "status_code", None)
        if status in (404, 410):
            return PushResult("expired", reason=f"the push service dropped the subscription ({status})")
        if status is None or status >= 500 or status == 429:
            return PushResult("retry", reason=f"the push service answered {status}")
        return PushResult("failed", reason=f"the push service refused the message ({status})")
    except requests.Timeout:
        return PushResult("retry", reason="the push service did not answer in time")
    except requests.TooManyRedirects:
        return PushResult("failed", reason="the push endpoint redirected elsewhere")
    except requests.RequestException as error:
        return PushResult("retry", reason=f"the push service is unreachable: {type(error).__name__}")
    location = response.headers.get("Location") if isinstance(response, requests.Response) else None
    return PushResult("sent", location=location)
