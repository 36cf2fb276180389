"""Kinds of shop: a list the admin keeps (a setting), seeded with the built-in kinds.

A shop stores its kind's key; the admin adds kinds and renames their labels
(the key stays, so no shop changes). An import that meets an unknown kind
names it and can add it (`flask outlets import --add-kinds`).
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from partner_club.accounts.models import User
from partner_club.audit.services import record
from partner_club.errors import Invalid
from partner_club.settings_store import get_setting, put_setting

KINDS_SETTING = "outlets.kinds"
KEY_LENGTH = 32  # outlets.kind is String(32)
BUILT_IN_KINDS: dict[str, dict[str, str]] = {
    "shop": {"en": "Shop", "ru": "Магазин"},
    "market": {"en": "Market stall", "ru": "Павильон на рынке"},
    "builders_yard": {"en": "Builders' yard", "ru": "Строительная база"},
    "chain": {"en": "Chain store", "ru": "Сетевой магазин"},
    "online": {"en": "Online shop", "ru": "Интернет-магазин"},
}


def outlet_kinds(session: Session) -> dict[str, dict[str, str]]:
    """Key -> {"en": label, "ru": label}, in the order they were added."""
    return dict(get_setting(session, KINDS_SETTING, BUILT_IN_KINDS))


def kind_key(raw: str) -> str:
    """The key a kind is stored under: lower case, words joined by `_`."""
    return re.sub(r"[\s\-]+", "_", raw.strip().lower())[:KEY_LENGTH]


def kind_label(kinds: dict[str, dict[str, str]], key: str, locale: str) -> str:
    names = kinds.get(key) or {}
    return names.get(locale) or names.get("en") or key


def add_kinds(session: Session, raws: list[str], *, actor: User | None = None) -> list[str]:
    """Adds the kinds not yet known (label = the text as given); returns the new keys."""
    kinds = outlet_kinds(session)
    added = []
    for raw in raws:
        key = kind_key(raw)
        if not key:
            raise Invalid(_("Give the kind a name."), code="bad_kind")
        if key not in kinds:
            label = raw.strip()[:100]
            kinds[key] = {"en": label, "ru": label}
            added.append(key)
    if added:
        put_setting(session, KINDS_SETTING, kinds, actor_id=actor.id if actor else None)
        record(session, actor, "outlets.kinds_added", None, kinds=added)
    return added


def rename_kind(session: Session, key: str, *, name_en: str, name_ru: str, actor: User | None = None) -> None:
    kinds = outlet_kinds(session)
    if key not in kinds:
        raise Invalid(_("There is no kind %(kind)s.", kind=key), code="unknown_kind")
    name_en, name_ru = name_en.strip()[:100], name_ru.strip()[:100]
    if not name_en or not name_ru:
        raise Invalid(_("Give the kind's name in both languages."), code="bad_kind")
    kinds[key] = {"en": name_en, "ru": name_ru}
    put_setting(session, KINDS_SETTING, kinds, actor_id=actor.id if actor else None)
    record(session, actor, "outlets.kind_renamed", None, kind=key, name_en=name_en, name_ru=name_ru)
