"""Response headers every page and answer carries: CSP, framing, referrer, sniffing, HSTS.

Scripts, styles, images and fonts come only from the club's own origin. The few inline
blocks the templates need (the map's folium script and styles, the checkout's guard)
carry the request's nonce: `{{ csp_nonce() }}`, or `|with_nonce` on rendered HTML.
"""

from __future__ import annotations

import re
import secrets

from flask import Flask, Response, current_app, g
from markupsafe import Markup

_OPENING_TAG = re.compile(r"<(script|style)\b(?![^>]*\bnonce=)", re.IGNORECASE)


def csp_nonce() -> str:
    """This request's nonce, made on first use."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def with_nonce(html: str) -> Markup:
    """Trusted HTML whose inline <script> and <style> blocks get this request's nonce."""
    return Markup(_OPENING_TAG.sub(rf'<\1 nonce="{csp_nonce()}"', str(html)))  # noqa: S704 - trusted input


def content_security_policy(nonce: str) -> str:
    own = f"'self' 'nonce-{nonce}'"
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {own}",
            f"style-src {own}",
            "img-src 'self' data:",  # Leaflet's and the QR pages' inline pictures
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _add_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config.get("PUBLIC_URL", "").startswith("https://"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_add_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.filters["with_nonce"] = with_nonce
