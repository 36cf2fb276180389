"""The person's channels for each group of messages, and unsubscribing from mailings by link.

Every message lands in the in-app list; the choice here is where else it
goes (push, SMS, e-mail, tried in that order). The groups shown depend on
the role: a seller has no reports, head office has no points. Messages about
one's own points and orders cannot be switched off: they always reach the
in-app list, whatever the outside channels.

The unsubscribe link in every mailing is signed (no sign-in needed, nothing
to guess): opening it shows a page whose button switches the `mailings`
group's channels off (mail scanners open links, so a GET changes nothing);
a mail client's one-click POST does the same at once. The page then offers
to undo, which brings back the channels the person had before (they travel
in the signed undo token). The link itself, and the `List-Unsubscribe`
headers the e-mail channel adds to every mailing, come from
`notifications.unsubscribe`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from partner_club.accounts.models import PARTICIPANT_ROLES, Role, User
from partner_club.notifications.services import ALWAYS_IN_APP, allowed_channels, set_channels

# The link's own functions, named here too for the profile's pages and older callers.
from partner_club.notifications.unsubscribe import list_unsubscribe_headers as list_unsubscribe_headers
from partner_club.notifications.unsubscribe import unsubscribe_token as unsubscribe_token
from partner_club.notifications.unsubscribe import unsubscribe_url as unsubscribe_url
from partner_club.notifications.unsubscribe import user_id_from_token as user_id_from_token

OUTSIDE_CHANNELS = ("push", "sms", "email")  # the fallback order
MAILINGS = "mailings"

GROUP_LABELS: dict[str, Any] = {
    "points": _l("My points"),
    "orders": _l("My prize orders"),
    "reviews": _l("Checks of my codes"),
    "campaigns": _l("Campaigns for me"),
    "people": _l("People and sign-ups"),
    "support": _l("Answers to my questions"),
    "mailings": _l("News and offers (mailings)"),
    "reports": _l("Report e-mails"),
}
CHANNEL_LABELS: dict[str, Any] = {
    "inapp": _l("In the app"),
    "push": _l("Push"),
    "sms": _l("SMS"),
    "email": _l("E-mail"),
}
_PARTICIPANT_GROUPS = ("points", "orders", "reviews", "campaigns", "support", "mailings")
_STAFF_GROUPS = ("people", "campaigns", "support", "reports", "mailings")


def groups_for(user: User) -> tuple[str, ...]:
    """The groups whose messages can reach this person, in the page's order."""
    if user.role_enum is Role.OWNER:
        return (*_PARTICIPANT_GROUPS[:4], "people", *_PARTICIPANT_GROUPS[4:])
    if user.role_enum in PARTICIPANT_ROLES:
        return _PARTICIPANT_GROUPS
    return _STAFF_GROUPS


@dataclass(frozen=True)
class ChannelChoice:
    name: str
    label: Any
    on: bool
    locked: bool


@dataclass(frozen=True)
class GroupRow:
    group: str
    label: Any
    channels: tuple[ChannelChoice, ...]
    locked_note: Any = None


def channel_table(session: Session, user: User) -> list[GroupRow]:
    """The profile page's table: per group, the in-app list (always) and the outside channels."""
    rows = []
    for group in groups_for(user):
        allowed = set(allowed_channels(session, user.id, group))
        choices = (
            ChannelChoice("inapp", CHANNEL_LABELS["inapp"], True, True),
            *(ChannelChoice(name, CHANNEL_LABELS[name], name in allowed, False) for name in OUTSIDE_CHANNELS),
        )
        note = (
            _l("Always in the app: these are about your own points and orders.")
            if group in ALWAYS_IN_APP
            else None
        )
        rows.append(GroupRow(group, GROUP_LABELS[group], choices, note))
    return rows


def choices_of(session: Session, user: User) -> dict[str, list[str]]:
    """The API's view: group -> the outside channels allowed, in the fallback order."""
    return {group: list(allowed_channels(session, user.id, group)) for group in groups_for(user)}


def save_choices(session: Session, user: User, chosen: Mapping[str, Iterable[str]]) -> None:
    """Stores the outside channels for the groups given (others stay as they are).

    Unknown channel names ("inapp" among them: it is not a choice) are ignored; an unknown
    group raises `KeyError` so the API can refuse it.
    """
    own = groups_for(user)
    for group, names in chosen.items():
        if group not in own:
            raise KeyError(group)
        set_channels(session, user.id, group, [n for n in OUTSIDE_CHANNELS if n in set(names)])


def _undo_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="resubscribe-mailings")


def unsubscribe_mailings(session: Session, user_id: int) -> str | None:
    """Switches the person's mailings off and returns the undo token, which carries the
    channels they had; None if no such person (a link to a removed one)."""
    if session.get(User, user_id) is None:
        return None
    before = list(allowed_channels(session, user_id, MAILINGS))
    set_channels(session, user_id, MAILINGS, [])
    return _undo_serializer().dumps({"u": user_id, "c": before})


def resubscribe_mailings(session: Session, undo_token: str) -> bool:
    """Brings back the channels the undo token carries; False if the token is not ours."""
    if not undo_token or len(undo_token) > 300:
        return False
    try:
        data = _undo_serializer().loads(undo_token)
    except BadSignature:
        return False
    user_id = data.get("u") if isinstance(data, dict) else None
    before = data.get("c") if isinstance(data, dict) else None
    if not isinstance(user_id, int) or not isinstance(before, list) or session.get(User, user_id) is None:
        return False
    set_channels(session, user_id, MAILINGS, [n for n in OUTSIDE_CHANNELS if n in before])
    return True


def mailings_allowed(session: Session, user_id: int) -> bool:
    """Whether a mailing may reach the person by any outside channel."""
    return bool(allowed_channels(session, user_id, MAILINGS))
