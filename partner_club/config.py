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
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        "RQ_QUEUE": env.get("RQ_QUEUE", "partner_club"),
        # "thread" runs jobs beside the request when there is no Redis;
        # tests choose "sync" to see the result at once.
        "JOBS_INPROCESS": env.get("JOBS_INPROCESS", "thread"),
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
        "MAX_CONTENT_LENGTH": int(env.get("MAX_UPLOAD_BYTES", str(16 * 1024 * 1024))),
        "BABEL_DEFAULT_LOCALE": env.get("DEFAULT_LOCALE", "ru"),
        "BABEL_DEFAULT_TIMEZONE": env.get("DEFAULT_TIMEZONE", "Europe/Moscow"),
        "BABEL_TRANSLATION_DIRECTORIES": ";".join(
            str(ROOT / package / "translations") for package in PACKAGES
        ),
        "LANGUAGES": ("ru", "en"),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
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
