"""Configuration read from the environment, with embedded defaults.

With no settings at all the club runs on a SQLite file in the instance folder
and runs jobs in-process, so a fresh clone needs no server. Production sets
DATABASE_URL and REDIS_URL.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
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


def from_environment(instance_path: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if env is None else env
    redis_url = env.get("REDIS_URL") or None
    return {
        "SECRET_KEY": env.get("SECRET_KEY", "dev-only-secret-change-me"),
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
        "CODE_KEYS": env.get("CODE_KEYS", "1:" + "5f" * 32),
        "MAP_TILE_URL": env.get("MAP_TILE_URL") or None,
        # The external gift-card showcase (catalog.providers.GiftCardHttpProvider).
        "GIFTCARD_URL": env.get("GIFTCARD_URL") or None,
        "GIFTCARD_TOKEN": env.get("GIFTCARD_TOKEN") or None,
        "GIFTCARD_TIMEOUT": float(env.get("GIFTCARD_TIMEOUT", "10")),
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
        "API_TOKEN_MAX_AGE": int(env.get("API_TOKEN_MAX_AGE", str(30 * 24 * 3600))),
        # Proxies (load balancer, nginx) in front of the app that append to X-Forwarded-For:
        # with 0 the peer's address is the participant's, as in the embedded default.
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE")),
        "WTF_CSRF_TIME_LIMIT": None,
    }
