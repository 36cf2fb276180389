"""The kinds of message the club sends: a small registry each package fills at import time.

A kind names its preference group, its title and body (lazy texts with
%(name)s placeholders filled from the notification's params), whether it may
wake someone (urgent) and whether it is a mailing (unsubscribe applies).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import force_locale

log = logging.getLogger(__name__)

# The preference groups a person chooses channels for on the profile page.
GROUPS = ("points", "orders", "reviews", "campaigns", "people", "support", "mailings", "reports")
# Messages about one's own points and orders always reach the in-app list.
ALWAYS_IN_APP = frozenset({"points", "orders"})

Renderer = Callable[[Mapping[str, Any], str], tuple[str, str]]


@dataclass(frozen=True)
class Kind:
    name: str  # "area.event"
    group: str
    title: Any = ""  # a lazy text; "%(name)s" placeholders take the params
    body: Any = ""
    urgent: bool = False  # False: outside 08:00-21:00 local time it waits for the morning
    mailing: bool = False
    # True: the in-app list only, never pushed, texted or mailed (a registration's points: the
    # person just saw the answer, and sixty packages must not be sixty SMS).
    in_app_only: bool = False
    # Instead of title/body: render(params, locale) -> (title, body), e.g. a mailing's own texts.
    render: Renderer | None = None

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ValueError(f"kind {self.name!r}: group must be one of {', '.join(GROUPS)}")
        if self.render is None and not self.title:
            raise ValueError(f"kind {self.name!r} needs a title or a render function")


KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> Kind:
    """Adds a kind to the registry; registering the same name again replaces it (reloads, tests)."""
    KINDS[kind.name] = kind
    return kind


def _fill(text: Any, params: Mapping[str, Any]) -> str:
    raw = str(text)
    if not raw:
        return ""
    try:
        return raw % params if "%(" in raw else raw
    except (KeyError, ValueError, TypeError):  # a param went missing: show the text unfilled
        log.warning("notification text %r lacks some of its params", raw[:60])
        return raw


def render_kind(kind_name: str, params: Mapping[str, Any], locale: str | None) -> tuple[str, str]:
    """(title, body) in the locale; a kind no longer registered shows its name."""
    locale = locale or current_app.config.get("BABEL_DEFAULT_LOCALE", "ru")
    kind = KINDS.get(kind_name)
    if kind is None:
        return kind_name, ""
    if kind.render is not None:
        with force_locale(locale):
            return kind.render(params, locale)
    with force_locale(locale):
        return _fill(kind.title, params), _fill(kind.body, params)
