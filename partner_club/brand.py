"""The organizer's brand: name, logo, colours and the programme's short rules.

Defaults come from the configuration (BRAND_* settings; the demo's brand ships
with the club); the admin's stored setting `brand` overrides them field by
field. Pages, e-mails, labels and the installable app read one `Brand`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from partner_club.links import is_local_path
from partner_club.settings_store import get_setting

SETTING = "brand"
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
FIELDS = ("name_ru", "name_en", "logo", "primary", "accent", "rules_ru", "rules_en")


@dataclass(frozen=True)
class Brand:
    name: str
    logo: str  # a path on the club's own origin, e.g. /static/brand/logo.svg
    primary: str  # "#rrggbb"
    accent: str
    rules: str


def defaults(config: Any) -> dict[str, str]:
    return {field: config[f"BRAND_{field.upper()}"] for field in FIELDS}


def clean(values: dict[str, Any], fallback: dict[str, str]) -> dict[str, str]:
    """Stored values that are safe to put in a page; a bad one falls back to the default.

    Colours go into a style sheet and the logo into an <img>: only #rrggbb colours and
    paths on the club's own origin pass."""
    out = dict(fallback)
    for field in FIELDS:
        value = values.get(field)
        if not isinstance(value, str) or not value.strip():
            continue
        value = value.strip()
        if field in ("primary", "accent") and not COLOUR.match(value):
            continue
        if field == "logo" and not is_local_path(value):
            continue
        out[field] = value
    return out


def brand_for(session: Session, config: Any, locale: str) -> Brand:
    values = clean(get_setting(session, SETTING, {}) or {}, defaults(config))
    language = "ru" if locale == "ru" else "en"
    return Brand(
        name=values[f"name_{language}"],
        logo=values["logo"],
        primary=values["primary"],
        accent=values["accent"],
        rules=values[f"rules_{language}"],
    )
