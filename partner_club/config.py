"""Configuration read from the environment, with embedded defaults.

With no settings at all the club runs on a SQLite file in the instance folder
and runs jobs in-process, so a fresh clone needs no server. Production sets
DATABASE_URL and REDIS_URL.
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
from collections.abc import Mapping, MutableMapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

# The core package: its templates, static files and migrations ship inside it (package data).
PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parent
PACKAGES = ("partner_club", "codes", "fraud", "catalog", "reports")


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url(raw: str | None, instance_path: str) -> str:
    if not raw:
        return f"sqlite:///{Path(instance_path) / 'partner_club.sqlite3'}"
    # Heroku-style URLs and plain "postgresql://" both mean psycopg 3 here.
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


SESSION_DAYS = 30

# Keys printed in this project's source at one time or another: never good outside tests.
DEVELOPMENT_SECRET_KEYS = frozenset({"dev-only-secret-change-me", "change-me", "changeme", "secret"})
# The defaults earlier versions shipped with (the test suite's own keys run its worker processes).
DEVELOPMENT_CODE_KEYS = frozenset({"5f" * 32})

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name
CODE_KEYS_FILE = "code_keys"
VAPID_KEY_FILE = "vapid_private_key"


def from_environment(instance_path: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if env is None else env
    redis_url = env.get("REDIS_URL") or None
    https = env.get("PUBLIC_URL", "").lower().startswith("https://")
    return {
        # None: `instance_keys` reads (or once creates) random keys in the instance folder.
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": _database_url(env.get("DATABASE_URL"), instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "REDIS_URL": redis_url,
        "RQ_QUEUE": env.get("RQ_QUEUE", "partner_club"),
        # "thread" runs jobs beside the request when there is no Redis;
        # tests choose "sync" to see the result at once.
        "JOBS_INPROCESS": env.get("JOBS_INPROCESS", "thread"),
        # Job recovery (docs/operations.md): a running job writes a heartbeat every
        # JOB_HEARTBEAT_SECONDS; the workers' sweep (every JOB_SWEEP_SECONDS) requeues one
        # silent for JOB_STALE_SECONDS, up to JOB_MAX_ATTEMPTS tries; a job that raises is
        # retried by rq after each of JOB_RETRY_INTERVALS (seconds).
        "JOB_HEARTBEAT_SECONDS": float(env.get("JOB_HEARTBEAT_SECONDS", "10")),
        "JOB_STALE_SECONDS": float(env.get("JOB_STALE_SECONDS", "120")),
        "JOB_SWEEP_SECONDS": float(env.get("JOB_SWEEP_SECONDS", "30")),
        "JOB_MAX_ATTEMPTS": int(env.get("JOB_MAX_ATTEMPTS", "3")),
        "JOB_RETRY_INTERVALS": [
            int(s) for s in env.get("JOB_RETRY_INTERVALS", "10,60,300").split(",") if s.strip()
        ],
        "PUBLIC_URL": env.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS")),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "Partner Club <club@localhost>"),
        # Code keys: "version:hexkey" pairs separated by commas. The newest
        # version signs new batches; old ones keep decoding their batches.
        "CODE_KEYS": env.get("CODE_KEYS") or None,
        "MAP_TILE_URL": env.get("MAP_TILE_URL") or None,
        # The organizer's brand (partner_club.brand); the admin's `brand` setting overrides it.
        "BRAND_NAME_RU": env.get("BRAND_NAME_RU", "Клуб партнёров"),
        "BRAND_NAME_EN": env.get("BRAND_NAME_EN", "Partner Club"),
        "BRAND_LOGO": env.get("BRAND_LOGO", "/static/brand/logo.svg"),
        "BRAND_PRIMARY": env.get("BRAND_PRIMARY", "#0b5cab"),
        "BRAND_ACCENT": env.get("BRAND_ACCENT", "#b35c00"),
        "BRAND_RULES_RU": env.get(
            "BRAND_RULES_RU",
            "Регистрируйте коды с упаковок — получайте баллы — обменивайте их на призы.",
        ),
        "BRAND_RULES_EN": env.get(
            "BRAND_RULES_EN", "Register the codes on the packages, earn points, trade them for prizes."
        ),
        # The external gift-card showcase (catalog.providers.GiftCardHttpProvider).
        "GIFTCARD_URL": env.get("GIFTCARD_URL") or None,
        "GIFTCARD_TOKEN": env.get("GIFTCARD_TOKEN") or None,
        "GIFTCARD_TIMEOUT": float(env.get("GIFTCARD_TIMEOUT", "10")),
        # Messages (docs/messages.md). SMS_PROVIDER: "http" (POST JSON to SMS_URL with the
        # Bearer SMS_TOKEN; the default when SMS_URL is set), "smsru" or "smsc"; none: no SMS.
        "SMS_PROVIDER": env.get("SMS_PROVIDER") or None,
        "SMS_URL": env.get("SMS_URL") or None,
        "SMS_TOKEN": env.get("SMS_TOKEN") or None,
        "SMS_SENDER": env.get("SMS_SENDER", ""),
        "SMS_TIMEOUT": float(env.get("SMS_TIMEOUT", "10")),
        # Country calling codes SMS may go to, comma-separated (7: Russia and Kazakhstan).
        "SMS_COUNTRIES": env.get("SMS_COUNTRIES", "7"),
        # Web Push: the VAPID private key (None: created in the instance folder) and the
        # contact the push services may write to about this sender.
        "VAPID_PRIVATE_KEY": env.get("VAPID_PRIVATE_KEY") or None,
        "PUSH_CONTACT": env.get("PUSH_CONTACT") or None,
        "PUSH_TIMEOUT": float(env.get("PUSH_TIMEOUT", "10")),
        # A failed send is tried again after each of these (seconds), then the next channel.
        "NOTIFY_RETRY_INTERVALS": [
            int(s) for s in env.get("NOTIFY_RETRY_INTERVALS", "60,300,1800").split(",") if s.strip()
        ],
        "MAX_CONTENT_LENGTH": int(env.get("MAX_UPLOAD_BYTES", str(16 * 1024 * 1024))),
        "BABEL_DEFAULT_LOCALE": env.get("DEFAULT_LOCALE", "ru"),
        "BABEL_DEFAULT_TIMEZONE": env.get("DEFAULT_TIMEZONE", "Europe/Moscow"),
        "BABEL_TRANSLATION_DIRECTORIES": ";".join(
            str(ROOT / package / "translations") for package in PACKAGES
        ),
        "LANGUAGES": ("ru", "en"),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # With Redis down the limits count in the process's memory rather than failing sign-in.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "JOIN_RATE_LIMIT": env.get("JOIN_RATE_LIMIT", "30 per minute;300 per hour"),
        "PASSWORD_RESET_RATE_LIMIT": env.get("PASSWORD_RESET_RATE_LIMIT", "5 per minute;20 per hour"),
        "API_TOKEN_MAX_AGE": int(env.get("API_TOKEN_MAX_AGE", str(30 * 24 * 3600))),
        # Proxies (load balancer, nginx) in front of the app that append to X-Forwarded-For:
        # with 0 the peer's address is the participant's, as in the embedded default.
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https or _bool(env.get("SESSION_COOKIE_SECURE")),
        # The signed-in session is a permanent cookie holding a server-side session id
        # (accounts/sessions.py): it lasts 30 days and dies on the server at sign-out.
        "PERMANENT_SESSION_LIFETIME": timedelta(days=SESSION_DAYS),
        # The cookie is written when the session changes (sign-in, a message to show) and when
        # the server-side session is touched (every 10 minutes of use: the 30 days roll on), not
        # on every answer: a late answer to a request sent before a change (a stylesheet, a
        # page the service worker keeps) would write the old cookie back over the change.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "REMEMBER_COOKIE_DURATION": timedelta(days=SESSION_DAYS),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": https or _bool(env.get("SESSION_COOKIE_SECURE")),
        "WTF_CSRF_TIME_LIMIT": None,
    }


def instance_keys(config: MutableMapping[str, Any], instance_path: str) -> None:
    """Fills SECRET_KEY and CODE_KEYS, when neither the environment nor the caller set them,
    from files in the instance folder, creating random ones (mode 0600) on the first start.

    This is the factory's one side effect, and on purpose: the embedded default must never
    run on a key printed in the source, and `make demo` must stay one command. A key file is
    written once and read on every later start; losing `code_keys` makes every printed code
    unverifiable, which is why the README says how to back it up.
    """
    folder = Path(instance_path)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _read_or_create(folder / SECRET_KEY_FILE, secrets.token_hex(32))
    if not config.get("CODE_KEYS"):
        path = folder / CODE_KEYS_FILE
        config["CODE_KEYS"] = ",".join(_read_or_create(path, f"1:{secrets.token_hex(32)}").split())
        config["CODE_KEYS_FILE"] = str(path)


def vapid_key(config: MutableMapping[str, Any], instance_path: str) -> None:
    """Fills VAPID_PRIVATE_KEY (Web Push), unless set, from the instance folder, creating it once."""
    if not config.get("VAPID_PRIVATE_KEY"):
        path = Path(instance_path) / VAPID_KEY_FILE
        config["VAPID_PRIVATE_KEY"] = _read_or_create(path, _new_vapid_key())


def _new_vapid_key() -> str:
    """A P-256 private key for Web Push, as base64url of its raw 32 bytes."""
    number = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    return base64.urlsafe_b64encode(number.to_bytes(32, "big")).rstrip(b"=").decode("ascii")


def _read_or_create(path: Path, fresh: str) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole beside the file, then linked into place: app processes starting together
    # (gunicorn's workers) agree on the first one's key and never read a half-written file.
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(fresh + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    finally:
        draft.unlink()
    print(f"Partner Club: created a random key in {path} (mode 0600); back it up.", file=sys.stderr)
    return fresh


def development_key_problem(config: Mapping[str, Any]) -> str | None:
    """What to set, when a key is one printed in the source and the app is not in debug or
    testing; None when the keys are fit to run on."""
    if config.get("DEBUG") or config.get("TESTING"):
        return None
    if config.get("SECRET_KEY") in DEVELOPMENT_SECRET_KEYS:
        return (
            "SECRET_KEY is a development value printed in the source: set SECRET_KEY to a long "
            "random string (python3 -c 'import secrets; print(secrets.token_hex(32))'), or unset "
            "it to use the instance folder's generated key."
        )
    pairs = str(config.get("CODE_KEYS") or "").split(",")
    if any(pair.partition(":")[2].strip().lower() in DEVELOPMENT_CODE_KEYS for pair in pairs):
        return (
            "CODE_KEYS holds a development key printed in the source: set CODE_KEYS to "
            "'1:<64 hex digits>' (python3 -c 'import secrets; print(secrets.token_hex(32))'), "
            "keeping every version your printed batches were issued with."
        )
    return None
