"""The messages fraud's review queue raises: a held registration accepted or rejected."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from partner_club.notifications.services import Kind, register_kind

REGISTRATIONS_PAGE = "/codes/registrations"

ACCEPTED = register_kind(
    Kind(
        name="review.accepted",
        group="reviews",
        title=_l("Your code passed the check"),
        body=_l("The points held for it are active now."),
    )
).name
REJECTED = register_kind(
    Kind(
        name="review.rejected",
        group="reviews",
        title=_l("Your code did not pass the check"),
        body=_l("Its points are removed. Reason: %(reason)s"),
    )
).name
