"""Words for the values catalog stores: who delivers a prize and where its order stands."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

PROVIDER_LABELS = {
    "warehouse": _l("the organizer's warehouse"),
    "giftcard_http": _l("gift-card showcase"),
}
PROVIDER_STATUS_LABELS = {
    "manual": _l("sent by the organizer's staff"),
    "pending": _l("to be sent to the provider"),
    "retry": _l("the provider did not answer; trying again"),
    "placed": _l("the provider is working on it"),
    "done": _l("delivered by the provider"),
    "failed": _l("refused by the provider"),
}


def provider_label(name: str) -> str:
    return str(PROVIDER_LABELS.get(name, name))


def provider_status_label(status: str) -> str:
    return str(PROVIDER_STATUS_LABELS.get(status, status))
