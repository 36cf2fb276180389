"""Call lists: a segment frozen into people to phone, exported, and each call's outcome."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from partner_club.accounts.access import EVERYTHING, outlet_filter
from partner_club.accounts.models import Role, User
from partner_club.audit.services import record
from partner_club.errors import Forbidden, Invalid
from partner_club.mailings import segments
from partner_club.mailings.models import CallEntry, CallList, CallOutcome
from partner_club.mailings.services import require_sender, scope_region

MAX_ENTRIES = 5000  # a list longer than a team can phone is a segment to narrow
MAX_NOTE = 1000
OUTCOME_LABELS = {
    CallOutcome.REACHED.value: _l("reached"),
    CallOutcome.NO_ANSWER.value: _l("no answer"),
    CallOutcome.WRONG_NUMBER.value: _l("wrong number"),
    CallOutcome.WILL_REGISTER.value: _l("will register"),
}


def can_see(viewer: User, call_list: CallList) -> bool:
    if Role(viewer.role) in EVERYTHING:
        return True
    return Role(viewer.role) is Role.REGIONAL_MANAGER and call_list.region_id == viewer.region_id


def create_call_list(
    session: Session,
    *,
    title: str,
    reason: str,
    segment: dict[str, Any],
    actor: User,
    now: datetime,
    locale: str,
) -> CallList:
    """Freezes the segment's people (with their last registration) into a list to call."""
    require_sender(actor)
    segment = segments.clean(segment)
    segments.check_scope(session, segment, actor)
    title = title.strip()
    if not title:
        raise Invalid(_("Give the list a title."))
    people = session.execute(
        segments.people_query(session, segment, outlet_filter(actor), now)
        .order_by(User.outlet_id, User.id)
        .limit(MAX_ENTRIES + 1)
    ).all()
    if len(people) > MAX_ENTRIES:
        raise Invalid(_("The segment holds more than %(most)s people: narrow it.", most=MAX_ENTRIES))
    if not people:
        raise Invalid(_("Nobody is in this segment."))
    reason = (reason.strip() or "; ".join(segments.describe(session, segment, locale)))[:300]
    call_list = CallList(
        title=title[:200],
        reason=reason,
        segment=segment,
        region_id=scope_region(actor),
        created_by_id=actor.id,
    )
    session.add(call_list)
    source = segments.activity()
    last = source.last_registrations(session, [p.id for p in people]) if source else {}
    for person in people:
        call_list.entries.append(
            CallEntry(user_id=person.id, outlet_id=person.outlet_id, last_registration_at=last.get(person.id))
        )
    session.flush()
    record(session, actor, "mailings.call_list", call_list, people=len(people))
    return call_list


def entries(session: Session, call_list: CallList) -> list[CallEntry]:
    return list(
        session.scalars(
            select(CallEntry)
            .options(joinedload(CallEntry.user), joinedload(CallEntry.outlet))
            .where(CallEntry.call_list_id == call_list.id)
            .order_by(CallEntry.id)
        )
    )


def record_call(
    session: Session, entry: CallEntry, *, outcome: str, note: str, actor: User, now: datetime
) -> None:
    if not can_see(actor, entry.call_list):
        raise Forbidden(_("This list is outside your region."))
    if outcome not in OUTCOME_LABELS:
        raise Invalid(_("Choose what the call gave."))
    if len(note) > MAX_NOTE:
        raise Invalid(_("A note may be at most %(most)s characters long.", most=MAX_NOTE))
    entry.outcome, entry.note = outcome, note.strip()
    entry.called_at, entry.called_by_id = now, actor.id
    session.flush()


def export_columns() -> list[str]:
    return [
        _("Name"),
        _("Shop"),
        _("Shop id"),
        _("Phone"),
        _("Reason"),
        _("Last registration"),
        _("Outcome"),
        _("Note"),
    ]


def export_rows(session: Session, call_list: CallList) -> Iterator[list[Any]]:
    for entry in entries(session, call_list):
        yield [
            entry.user.display_name,
            entry.outlet.name if entry.outlet else "",
            (entry.outlet.external_id or "") if entry.outlet else "",
            entry.user.phone or "",
            call_list.reason,
            entry.last_registration_at.strftime("%Y-%m-%d") if entry.last_registration_at else "",
            str(OUTCOME_LABELS.get(entry.outcome or "", "")),
            entry.note,
        ]
