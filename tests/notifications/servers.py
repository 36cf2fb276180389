"""Real local servers standing in for the outside world: a mail server, an SMS gateway, a
browser's push service that decrypts what it is sent with the subscription's private key."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import http_ece
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.processes import free_port


class Inbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.refused: set[str] = set()  # addresses answered 550 (a bounce)
        self.busy = False  # answer 451 (try again later) to everything

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.busy:
            return "451 Try again later"
        if address in self.refused:
            return "550 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def start_smtp() -> tuple[Inbox, Controller]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return inbox, controller


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


class _Server:
    """A threaded HTTP server on a free port; `answer(received)` gives (status, body)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                got = Received(self.path, dict(self.headers.items()), self.rfile.read(length))
                owner.received.append(got)
                status, body = owner.answer(got)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    if status == 201:
                        self.send_header("Location", f"{owner.url}/messages/{len(owner.received)}")
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, received: Received) -> tuple[int, bytes]:
        raise NotImplementedError

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class SmsGateway(_Server):
    """Answers by `mode`: "ok" (200 with an id), "error" (500), "slow" (answers after `delay` s),
    "refuse" (400); `script` gives the modes of the next requests, one each, before `mode`."""

    def __init__(self) -> None:
        super().__init__()
        self.mode = "ok"
        self.script: list[str] = []
        self.delay = 3.0
        self.body: dict[str, Any] | None = None  # a provider-shaped answer (SMS.ru, SMSC)

    def answer(self, received: Received) -> tuple[int, bytes]:
        mode = self.script.pop(0) if self.script else self.mode
        if mode == "slow":
            time.sleep(self.delay)
        if mode == "error":
            return 500, b'{"error": "internal"}'
        if mode == "refuse":
            return 400, b'{"error": "bad number"}'
        body = self.body if self.body is not None else {"id": f"sms-{len(self.received)}"}
        return 200, json.dumps(body).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class BrowserKeys:
    """What a browser keeps for a push subscription: its private key and auth secret."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return _b64(point)

    @property
    def auth_b64(self) -> str:
        return _b64(self.auth)


class PushService(_Server):
    """A push service with one endpoint per subscription; `gone` endpoints answer 410.

    Every message is decrypted (RFC 8291, aes128gcm) with the subscription's private key:
    `payloads` holds what arrived, `failures` anything that did not decrypt.
    """

    def __init__(self) -> None:
        super().__init__()
        self.keys: dict[str, BrowserKeys] = {}
        self.gone: set[str] = set()
        self.failing: set[str] = set()
        self.payloads: list[dict[str, Any]] = []
        self.failures: list[str] = []

    def subscription(self, name: str) -> dict[str, Any]:
        keys = self.keys.setdefault(name, BrowserKeys())
        return {"endpoint": f"{self.url}/push/{name}", "keys": {"p256dh": keys.p256dh, "auth": keys.auth_b64}}

    def answer(self, received: Received) -> tuple[int, bytes]:
        name = received.path.rsplit("/", 1)[-1]
        if name in self.gone:
            return 410, b"{}"
        if name in self.failing:
            return 503, b"{}"
        keys = self.keys.get(name)
        if keys is None:
            return 404, b"{}"
        try:
            plain = http_ece.decrypt(
                received.body, private_key=keys.private_key, auth_secret=keys.auth, version="aes128gcm"
            )
            self.payloads.append({"to": name, "headers": received.headers, **json.loads(plain)})
        except Exception as error:  # a test stand-in: whatever went wrong is the finding
            self.failures.append(repr(error))
            return 400, b"{}"
        return 201, b""
