"""Support desk pages: the form any signed-in person reaches from every page, their
requests and threads, and staff's queue. Thin: parse, call a service, commit once."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from partner_club.accounts.access import ALL_ROLES, STAFF, roles_required
from partner_club.database import utcnow
from partner_club.errors import DomainError
from partner_club.extensions import db
from partner_club.home import HomeCard
from partner_club.links import is_local_path
from partner_club.nav import NavItem
from partner_club.support import services
from partner_club.support.forms import ReplyForm, StatusForm, TicketForm
from partner_club.support.models import STATUS_LABELS, TOPIC_LABELS, Status, Ticket
from partner_club.support.photos import too_large
from partner_club.web import commits, refuse

bp = Blueprint("support", __name__, url_prefix="/support")
bp.nav = [
    NavItem("support.mine", _l("My requests to support"), ALL_ROLES - STAFF, 90),
    NavItem("support.queue", _l("Support requests"), STAFF, 70),
]


def _waiting_card(session, user):
    return {"count": services.waiting_count(session, user)}


bp.home_cards = [HomeCard("support_waiting", STAFF, _waiting_card, "support/card.html", 40)]


def photo_limit() -> int:
    return int(current_app.config.get("MAX_CONTENT_LENGTH") or 16 * 1024 * 1024)


def uploaded_photo(file: FileStorage | None) -> bytes | None:
    """The attached picture's bytes, or None when nothing was attached."""
    if file is None or not file.filename:
        return None
    return file.read(photo_limit() + 1)  # the service refuses what is over the limit


def came_from() -> str:
    """The page the person was on: the Help link names it; else the same-site referrer."""
    named = request.args.get("from", "")
    if is_local_path(named):
        return named[: services.MAX_PAGE]
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc and referrer.netloc == request.host and not referrer.path.startswith("/support/new"):
        return (referrer.path + (f"?{referrer.query}" if referrer.query else ""))[: services.MAX_PAGE]
    return ""


def age(since: datetime, now: datetime | None = None) -> str:
    return format_timedelta((now or utcnow()) - since, threshold=1.1, add_direction=False)


def duration(delta: timedelta) -> str:
    return format_timedelta(delta, threshold=1.1)


bp.add_app_template_filter(age, "support_age")
bp.add_app_template_filter(duration, "support_duration")


@bp.errorhandler(413)
def request_too_large(_error):
    """The whole upload was over MAX_UPLOAD_BYTES: refused before it was read."""
    message = too_large(photo_limit()).message
    if request.endpoint == "support.new":
        form = TicketForm(formdata=None)  # the body is not read: it is what was too large
        form.topic.data = "question"
        return render_template("support/new.html", form=form, problem=message), 413
    flash(message, "error")
    return redirect(request.path), 303


@bp.route("/new", methods=["GET", "POST"])
@login_required
@commits
def new():
    form = TicketForm()
    if request.method == "GET":
        form.page.data = came_from()
        form.topic.data = form.topic.data or "question"
    if not form.validate_on_submit():
        return render_template(
            "support/new.html", form=form, problem=None
        ), 200 if request.method == "GET" else 400
    try:
        ticket = services.open_ticket(
            db.session,
            current_user,
            topic=form.topic.data,
            text=form.text.data,
            page=form.page.data,
            photo=uploaded_photo(form.photo.data),
            max_photo_bytes=photo_limit(),
        )
    except DomainError as error:
        return render_template("support/new.html", form=form, problem=refuse(error)), error.status
    flash(
        _(
            "Thank you! Your request #%(number)s is sent; the answer will come here and to your messages.",
            number=ticket.id,
        ),
        "success",
    )
    return redirect(url_for("support.ticket", ticket_id=ticket.id))


@bp.get("/")
@login_required
def mine():
    return render_template("support/mine.html", tickets=services.tickets_of(db.session, current_user))


def _own_or_404(ticket_id: int) -> Ticket:
    try:
        return services.ticket_for(db.session, current_user, ticket_id)
    except DomainError:
        abort(404)


def _ticket_page(ticket: Ticket, form: ReplyForm, problem: str | None = None, status: int = 200):
    staff_view = ticket.author_id != current_user.id
    status_form = StatusForm(status=ticket.status) if staff_view else None
    return render_template(
        "support/ticket.html",
        ticket=ticket,
        form=form,
        status_form=status_form,
        staff_view=staff_view,
        problem=problem,
        now=utcnow(),
    ), status


@bp.route("/<int:ticket_id>", methods=["GET", "POST"])
@login_required
@commits
def ticket(ticket_id: int):
    ticket = _own_or_404(ticket_id)
    form = ReplyForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _ticket_page(ticket, form, status=200 if request.method == "GET" else 400)
    try:
        services.add_message(
            db.session,
            current_user,
            ticket,
            text=form.text.data,
            photo=uploaded_photo(form.photo.data),
            max_photo_bytes=photo_limit(),
            resolve=bool(form.resolve.data) and ticket.author_id != current_user.id,
        )
    except DomainError as error:
        return _ticket_page(ticket, form, refuse(error), error.status)
    flash(_("Your message is sent."), "success")
    return redirect(url_for("support.ticket", ticket_id=ticket.id))


@bp.post("/<int:ticket_id>/take")
@roles_required(*STAFF)
@commits(back=lambda ticket_id: url_for("support.ticket", ticket_id=ticket_id))
def take(ticket_id: int):
    ticket = _own_or_404(ticket_id)
    services.take(db.session, current_user, ticket)
    flash(_("The request is yours now."), "success")
    return redirect(url_for("support.ticket", ticket_id=ticket.id))


@bp.post("/<int:ticket_id>/status")
@roles_required(*STAFF)
@commits(back=lambda ticket_id: url_for("support.ticket", ticket_id=ticket_id))
def change_status(ticket_id: int):
    ticket = _own_or_404(ticket_id)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    services.set_status(db.session, current_user, ticket, form.status.data)
    flash(_("Status: %(status)s.", status=ticket.status_label), "success")
    return redirect(url_for("support.ticket", ticket_id=ticket.id))


@bp.get("/photos/<int:photo_id>")
@login_required
def photo(photo_id: int):
    try:
        picture = services.photo_for(db.session, current_user, photo_id)
    except DomainError:
        abort(404)
    response = make_response(picture.data)
    response.mimetype = picture.mimetype
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/queue")
@roles_required(*STAFF)
def queue():
    status = request.args.get("status", "open")
    wanted = services.QueueFilter(
        status=status if status in services.STATUS_FILTERS else "open",
        topic=request.args.get("topic", ""),
        mine=request.args.get("mine") == "1",
        unassigned=request.args.get("unassigned") == "1",
    )
    return render_template(
        "support/queue.html",
        tickets=services.staff_queue(db.session, current_user, wanted),
        wanted=wanted,
        statuses=[
            ("open", _("Waiting for an answer")),
            *((s.value, str(label)) for s, label in STATUS_LABELS.items()),
            ("all", _("All")),
        ],
        topics=[(t.value, str(label)) for t, label in TOPIC_LABELS.items()],
        now=utcnow(),
        Status=Status,
    )
