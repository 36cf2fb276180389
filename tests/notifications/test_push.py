"""Web Push: the VAPID key kept in the instance folder, subscriptions checked, payload encrypted."""

from __future__ import annotations

import base64
import json
import stat

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from partner_club.accounts.models import Role
from partner_club.config import vapid_key
from partner_club.notifications.push import SubscriptionRefused, send_push, subscribe, vapid_public_key


def test_the_vapid_key_is_created_once_with_mode_0600_and_reused(tmp_path, capsys):
    first: dict = {}
    vapid_key(first, str(tmp_path))
    path = tmp_path / "vapid_private_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and "vapid_private_key" in capsys.readouterr().err
    again: dict = {}
    vapid_key(again, str(tmp_path))
    assert again == first and capsys.readouterr().err == ""
    public = vapid_public_key(first)
    assert public and len(public) == 87  # 65 bytes, base64url without padding
    given = {"VAPID_PRIVATE_KEY": "from-the-environment"}
    vapid_key(given, str(tmp_path / "elsewhere"))
    assert given["VAPID_PRIVATE_KEY"] == "from-the-environment" and not (tmp_path / "elsewhere").exists()


def test_the_payload_arrives_encrypted_for_the_subscription_and_signed(app, push):
    subscription = push.subscription("tablet")
    row = {"endpoint": subscription["endpoint"], **subscription["keys"]}
    result = send_push(app.config, row, {"title": "Баллы начислены", "body": "+50", "url": "/points/"})
    assert result.status == "sent" and push.failures == []
    [payload] = push.payloads
    assert (payload["title"], payload["body"], payload["url"]) == ("Баллы начислены", "+50", "/points/")
    headers = {k.lower(): v for k, v in payload["headers"].items()}
    assert headers["content-encoding"] == "aes128gcm" and int(headers["ttl"]) > 0
    scheme, _, token = headers["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in token.split(","))
    assert fields["k"] == vapid_public_key(app.config)
    _check_jwt(fields["t"], fields["k"], audience=push.url)


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _check_jwt(token: str, public_key: str, *, audience: str) -> None:
    """The VAPID JWT (ES256) verifies with the club's public key and names the push service."""
    signed, _, signature = token.rpartition(".")
    raw = _b64decode(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _b64decode(public_key))
    key.verify(der, signed.encode(), ec.ECDSA(hashes.SHA256()))  # raises if not the club's signature
    claims = json.loads(_b64decode(signed.split(".")[1]))
    assert claims["aud"] == audience and claims["sub"] == "mailto:ops@club.test"


def test_a_push_service_in_trouble_is_retried_and_a_gone_subscription_expires(app, push):
    subscription = push.subscription("old")
    row = {"endpoint": subscription["endpoint"], **subscription["keys"]}
    push.failing.add("old")
    assert send_push(app.config, row, {"title": "x"}).status == "retry"
    push.failing.clear()
    push.gone.add("old")
    assert send_push(app.config, row, {"title": "x"}).status == "expired"


def test_subscriptions_are_checked_and_move_with_the_browser(db, make, app, push, monkeypatch):
    first, second = make.user(Role.SELLER), make.user(Role.SELLER)
    sub = push.subscription("shared-phone")
    keys = sub["keys"]
    row = subscribe(db.session, first.id, sub["endpoint"], keys["p256dh"], keys["auth"], config=app.config)
    again = subscribe(db.session, second.id, sub["endpoint"], keys["p256dh"], keys["auth"], config=app.config)
    assert again.id == row.id and again.user_id == second.id  # the phone now belongs to the second person
    with pytest.raises(SubscriptionRefused, match="keys"):
        subscribe(db.session, first.id, sub["endpoint"] + "x", "AAAA", keys["auth"], config=app.config)
    monkeypatch.setitem(app.config, "PUSH_ALLOW_LOCAL_ENDPOINTS", False)
    for endpoint in (
        sub["endpoint"],
        "https://127.0.0.1/push/x",
        "https://10.0.0.8/push",
        "https://localhost/p",
        "https://2130706433/p",  # 127.0.0.1 written as one number
        "https://127.1/p",
        "https://push.example.net/send/abc",  # not a browser's push service
        "https://fcm.googleapis.com.example.net/x",
        "https://fcm.googleapis.com:8443/x",
    ):
        with pytest.raises(SubscriptionRefused):
            subscribe(db.session, first.id, endpoint, keys["p256dh"], keys["auth"], config=app.config)
    outside = subscribe(
        db.session,
        first.id,
        "https://fcm.googleapis.com/fcm/send/abc",
        keys["p256dh"],
        keys["auth"],
        config=app.config,
    )
    assert outside.user_id == first.id


def test_a_person_keeps_at_most_ten_live_browsers(db, make, app, push):
    person = make.user(Role.SELLER)
    rows = []
    for n in range(12):
        sub = push.subscription(f"browser-{n}")
        rows.append(subscribe(db.session, person.id, sub["endpoint"], **sub["keys"], config=app.config))
    live = [row.endpoint.rsplit("/", 1)[-1] for row in rows if row.expired_at is None]
    assert live == [f"browser-{n}" for n in range(2, 12)]
