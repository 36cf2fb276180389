"""The support desk's business: opening tickets, answering, the queue and its scope.

Services take a session and explicit arguments, flush and never commit.
Notifications are raised through `partner_club.notifications.services.notify`
in the caller's transaction (delivery leaves only after it commits): the
participant hears of an answer (`support.answered`), staff whose scope covers
the ticket hear of a new ticket (`support.new`) and an assignee of a reply
(`support.replied`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from partner_club.accounts.access import EVERYTHING, STAFF, can_see_outlet, outlet_filter
from partner_club.accounts.models import Role, User, UserStatus
from partner_club.database import utcnow
from partner_club.errors import Invalid, NotFound, TooManyAttempts
from partner_club.links import is_local_path
from partner_club.notifications.services import Kind, notify, register_kind
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Territory
from partner_club.support.models import (
    OPEN,
    STATUS_LABELS,
    TOPIC_LABELS,
    Message,
    Photo,
    Status,
    Ticket,
    Topic,
)
from partner_club.support.photos import clean_picture

MAX_TEXT = 4000
MAX_PAGE = 500
# New tickets per person: enough for a real run of problems, too few to flood the queue.
TICKETS_PER_HOUR = 5
TICKETS_PER_DAY = 20
REPLIES_PER_HOUR = 30  # a participant's own messages in their threads (each one tells staff)
EXCERPT = 140


# --- notification kinds --------------------------------------------------------------------


def _topic(params: Mapping[str, Any]) -> str:
    try:
        return str(TOPIC_LABELS[Topic(params.get("topic"))])
    except ValueError:
        return str(params.get("topic", ""))


def _render_answered(params: Mapping[str, Any], _locale: str) -> tuple[str, str]:
    return _("Answer to your request #%(number)s", number=params.get("number")), str(
        params.get("excerpt", "")
    )


def _render_new(params: Mapping[str, Any], _locale: str) -> tuple[str, str]:
    title = _("New request #%(number)s: %(topic)s", number=params.get("number"), topic=_topic(params))
    return title, str(params.get("excerpt", ""))


def _render_replied(params: Mapping[str, Any], _locale: str) -> tuple[str, str]:
    return _("Reply in request #%(number)s", number=params.get("number")), str(params.get("excerpt", ""))


register_kind(Kind(name="support.answered", group="support", render=_render_answered))
register_kind(Kind(name="support.new", group="support", render=_render_new))
register_kind(Kind(name="support.replied", group="support", render=_render_replied))


def ticket_link(ticket: Ticket) -> str:
    return f"/support/{ticket.id}"


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


# --- scope ---------------------------------------------------------------------------------


def is_staff(user: User) -> bool:
    return Role(user.role) in STAFF


def staff_scope(user: User) -> ColumnElement[bool]:
    """A WHERE clause on `Ticket`: the tickets `user` answers as staff."""
    role = Role(user.role)
    if role in EVERYTHING:
        return true()
    if role not in STAFF:
        return false()
    return Ticket.outlet_id.in_(select(Outlet.id).where(outlet_filter(user)).scalar_subquery())


def can_answer(user: User, ticket: Ticket) -> bool:
    role = Role(user.role)
    if role in EVERYTHING:
        return True
    if role not in STAFF or ticket.outlet is None:
        return False
    return can_see_outlet(user, ticket.outlet)


def ticket_for(session: Session, user: User, ticket_id: int) -> Ticket:
    """The ticket if `user` wrote it or answers it; NotFound otherwise (nobody learns it exists)."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or (ticket.author_id != user.id and not can_answer(user, ticket)):
        raise NotFound(_("There is no such request."), code="no_ticket")
    return ticket


def photo_for(session: Session, user: User, photo_id: int) -> Photo:
    """A picture for its ticket's author and the staff who answer it."""
    photo = session.get(Photo, photo_id)
    if photo is None:
        raise NotFound(_("There is no such picture."), code="no_photo")
    ticket_for(session, user, photo.message.ticket_id)
    return photo


# --- opening and answering -----------------------------------------------------------------


def _text(raw: str | None) -> str:
    text = (raw or "").strip()
    if not text:
        raise Invalid(_("Write your question or feedback."), code="empty_text")
    if len(text) > MAX_TEXT:
        raise Invalid(_("The text is too long: at most %(n)d characters.", n=MAX_TEXT), code="text_too_long")
    return text


def _page(raw: str | None) -> str | None:
    """Only a path on this site is kept (never another site's address)."""
    page = (raw or "").strip()
    if not is_local_path(page):
        return None
    return page[:MAX_PAGE]


def _check_pace(session: Session, author: User, now: datetime) -> None:
    recent = session.execute(
        select(
            func.count().filter(Ticket.created_at >= now - timedelta(hours=1)),
            func.count(),
        ).where(Ticket.author_id == author.id, Ticket.created_at >= now - timedelta(days=1))
    ).one()
    if recent[0] >= TICKETS_PER_HOUR or recent[1] >= TICKETS_PER_DAY:
        raise TooManyAttempts(
            _("You have sent many requests in a short time. Add to an open request, or try again later."),
            retry_after=3600,
        )


def _check_reply_pace(session: Session, author: User, now: datetime) -> None:
    recent = session.scalar(
        select(func.count(Message.id)).where(
            Message.author_id == author.id,
            Message.from_staff.is_(False),
            Message.created_at >= now - timedelta(hours=1),
        )
    )
    if (recent or 0) >= REPLIES_PER_HOUR:
        raise TooManyAttempts(
            _("You have sent many messages in a short time. Please wait for the answer."),
            retry_after=3600,
        )


def _attach(message: Message, photo: bytes | None, max_photo_bytes: int) -> None:
    if photo is None:
        return
    clean = clean_picture(photo, max_bytes=max_photo_bytes)
    message.photo = Photo(mimetype=clean.mimetype, width=clean.width, height=clean.height, data=clean.data)


def open_ticket(
    session: Session,
    author: User,
    *,
    topic: str,
    text: str | None,
    page: str | None = None,
    photo: bytes | None = None,
    max_photo_bytes: int,
) -> Ticket:
    """A new ticket with its first message; staff whose scope covers it are told."""
    try:
        chosen = Topic(topic)
    except ValueError:
        raise Invalid(_("Choose what your request is about."), code="bad_topic") from None
    body = _text(text)
    now = utcnow()
    _check_pace(session, author, now)
    ticket = Ticket(
        author_id=author.id,
        outlet_id=author.outlet_id,
        topic=chosen.value,
        status=Status.NEW.value,
        page=_page(page),
        created_at=now,
        waiting_since=now,
    )
    message = Message(author_id=author.id, from_staff=False, body=body, created_at=now)
    _attach(message, photo, max_photo_bytes)
    ticket.messages.append(message)
    session.add(ticket)
    session.flush()
    params = {"number": ticket.id, "topic": ticket.topic, "excerpt": _excerpt(body)}
    for staff_id in _staff_to_tell(session, ticket):
        notify(session, staff_id, "support.new", params=params, link=ticket_link(ticket))
    return ticket


def _staff_to_tell(session: Session, ticket: Ticket) -> list[int]:
    """Admins and head office; the shop's rep and its region's managers."""
    covers: list[ColumnElement[bool]] = [User.role.in_([Role.ADMIN.value, Role.HEAD_OFFICE.value])]
    outlet = session.get(Outlet, ticket.outlet_id) if ticket.outlet_id else None
    if outlet is not None:
        covers.append(and_(User.role == Role.REGIONAL_MANAGER.value, User.region_id == outlet.region_id))
        if outlet.territory_id is not None:
            rep = select(Territory.rep_id).where(Territory.id == outlet.territory_id).scalar_subquery()
            covers.append(and_(User.role == Role.REP.value, User.id == rep))
    return list(
        session.scalars(
            select(User.id).where(
                or_(*covers), User.status == UserStatus.ACTIVE.value, User.id != ticket.author_id
            )
        )
    )


def add_message(
    session: Session,
    user: User,
    ticket: Ticket,
    *,
    text: str | None,
    photo: bytes | None = None,
    max_photo_bytes: int,
    resolve: bool = False,
) -> Message:
    """A reply in the thread: the author's reopens the ticket; staff's answers it.

    Staff's answer leaves the ticket waiting for the participant (or resolved
    with `resolve`), records the first answer's time and tells the author.
    """
    body = _text(text)
    now = utcnow()
    by_author = ticket.author_id == user.id
    if not by_author and not can_answer(user, ticket):
        raise NotFound(_("There is no such request."), code="no_ticket")
    if by_author:
        _check_reply_pace(session, user, now)
    message = Message(author_id=user.id, from_staff=not by_author, body=body, created_at=now)
    _attach(message, photo, max_photo_bytes)
    ticket.messages.append(message)
    params = {"number": ticket.id, "excerpt": _excerpt(body)}
    if by_author:
        ticket.status = Status.IN_PROGRESS.value if ticket.assignee_id else Status.NEW.value
        ticket.waiting_since = now
        ticket.resolved_at = None
        session.flush()
        if ticket.assignee_id and ticket.assignee_id != user.id:
            notify(session, ticket.assignee_id, "support.replied", params=params, link=ticket_link(ticket))
        return message
    if ticket.first_answered_at is None:
        ticket.first_answered_at = now
    if ticket.assignee_id is None:
        ticket.assignee_id = user.id
    _set(ticket, Status.RESOLVED if resolve else Status.WAITING, now)
    session.flush()
    notify(session, ticket.author_id, "support.answered", params=params, link=ticket_link(ticket))
    return message


def _set(ticket: Ticket, status: Status, now: datetime) -> None:
    ticket.status = status.value
    ticket.resolved_at = now if status is Status.RESOLVED else None


def take(session: Session, staff: User, ticket: Ticket) -> Ticket:
    """Assigns the ticket to `staff`; a new one is then in progress."""
    if not can_answer(staff, ticket):
        raise NotFound(_("There is no such request."), code="no_ticket")
    ticket.assignee_id = staff.id
    if ticket.status == Status.NEW.value:
        ticket.status = Status.IN_PROGRESS.value
    session.flush()
    return ticket


def set_status(session: Session, staff: User, ticket: Ticket, status: str) -> Ticket:
    if not can_answer(staff, ticket):
        raise NotFound(_("There is no such request."), code="no_ticket")
    try:
        chosen = Status(status)
    except ValueError:
        raise Invalid(_("Choose a status from the list."), code="bad_status") from None
    if chosen is not Status(ticket.status) and Status(ticket.status) is Status.RESOLVED:
        ticket.waiting_since = utcnow()  # reopened by staff: back to the queue's end of the wait
    _set(ticket, chosen, utcnow())
    session.flush()
    return ticket


# --- lists ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    status: str = "open"  # "open" (new and in progress), a Status value, or "all"
    topic: str = ""
    mine: bool = False
    unassigned: bool = False


STATUS_FILTERS = ("open", *(s.value for s in Status), "all")


def queue_query(staff: User, wanted: QueueFilter) -> Select[Any]:
    """Staff's queue: the tickets in scope, oldest waiting first."""
    query = select(Ticket).where(staff_scope(staff))
    if wanted.status == "open":
        query = query.where(Ticket.status.in_(OPEN))
    elif wanted.status in {s.value for s in Status}:
        query = query.where(Ticket.status == wanted.status)
    if wanted.topic in {t.value for t in Topic}:
        query = query.where(Ticket.topic == wanted.topic)
    if wanted.mine:
        query = query.where(Ticket.assignee_id == staff.id)
    if wanted.unassigned:
        query = query.where(Ticket.assignee_id.is_(None))
    return query.order_by(Ticket.waiting_since, Ticket.id)


def staff_queue(session: Session, staff: User, wanted: QueueFilter, *, limit: int = 200) -> list[Ticket]:
    query = queue_query(staff, wanted).options(
        selectinload(Ticket.messages), selectinload(Ticket.author), selectinload(Ticket.outlet)
    )
    return list(session.scalars(query.limit(limit)))


def waiting_count(session: Session, staff: User) -> int:
    """Tickets in scope that staff still owe an answer on."""
    return (
        session.scalar(select(func.count(Ticket.id)).where(staff_scope(staff), Ticket.status.in_(OPEN))) or 0
    )


def tickets_of(session: Session, author: User, *, limit: int = 100) -> list[Ticket]:
    query = (
        select(Ticket)
        .where(Ticket.author_id == author.id)
        .options(selectinload(Ticket.messages))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
    )
    return list(session.scalars(query.limit(limit)))


def status_label(status: str) -> str:
    return str(STATUS_LABELS[Status(status)])
