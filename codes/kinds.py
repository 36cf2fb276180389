"""The messages a code registration raises: points credited, or held for a review.

Heard through `registration_recorded` (inside the registering transaction),
so a registration that rolls back tells nobody. Demo data and imported
history come without an assessment and are not announced.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from partner_club.ledger.models import Bucket
from partner_club.notifications.services import Kind, notify_in_app, register_kind
from partner_club.signals import Assessment, RegistrationAttempt, registration_recorded

register_kind(
    Kind(
        name="points.credited",
        group="points",
        title=_l("+%(points)d points"),
        body=_l("Code %(code)s is registered. The points are on your balance."),
        in_app_only=True,
    )
)
register_kind(
    Kind(
        name="points.held",
        group="points",
        title=_l("%(points)d points wait for a check"),
        body=_l("Code %(code)s is registered; its points become active once the club checks it."),
        in_app_only=True,
    )
)


@registration_recorded.connect
def announce_points(
    attempt: RegistrationAttempt, *, assessment: Assessment | None, credits: list[Any], **_kwargs: Any
) -> None:
    points = sum(item.amount for item in credits)
    if assessment is None or points <= 0:
        return
    held = any(item.bucket == Bucket.PENDING.value for item in credits)
    kind, link = ("points.held", "/codes/registrations") if held else ("points.credited", "/points/")
    notify_in_app(
        attempt.session,
        attempt.participant_id,
        kind,
        {"points": points, "code": attempt.code or ""},
        link=link,
    )
