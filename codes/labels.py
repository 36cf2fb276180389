"""Words for the values codes stores: how a code was entered, in the person's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

CHANNEL_LABELS = {
    "typed": _l("typed on the site"),
    "qr": _l("scanned QR code"),
    "link": _l("opened from the phone's camera"),
    "scan": _l("scanned with the club's scanner"),
    "photo": _l("decoded from a photo"),
    "api": _l("sent by the app"),
    "import": _l("imported from an earlier programme"),
}


def channel_label(channel: str) -> str:
    return str(CHANNEL_LABELS.get(channel, channel))
