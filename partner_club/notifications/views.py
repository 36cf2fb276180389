"""The in-app list of messages, the click-through that marks one read, the header's badge."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required

from partner_club.database import utcnow
from partner_club.extensions import db
from partner_club.notifications.models import Notification
from partner_club.notifications.push import vapid_public_key
from partner_club.notifications.services import mark_opened, mark_read, recent, render, unread_count
from partner_club.web import commits

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
bp.nav = []
PER_PAGE = 30


@bp.app_context_processor
def badge() -> dict:
    """`unread_notifications()` for the header on every page (asked only where it is shown)."""

    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        return unread_count(db.session, current_user.id)

    return {"unread_notifications": unread_notifications}


@bp.get("/")
@login_required
def index():
    before = request.args.get("before", type=int)
    items = recent(db.session, current_user.id, PER_PAGE + 1, before_id=before)
    more = len(items) > PER_PAGE
    items = items[:PER_PAGE]
    locale = str(get_locale() or current_user.locale or "ru")  # the page's language
    shown = [(n, *render(n, locale)) for n in items]
    return render_template(
        "notifications/index.html",
        items=shown,
        unread=unread_count(db.session, current_user.id),
        older=items[-1].id if more else None,
        vapid_key=vapid_public_key(current_app.config),
        push_worker_url=url_for("site.service_worker"),
    )


@bp.post("/read")
@login_required
@commits
def read_all():
    mark_read(db.session, current_user.id)
    return redirect(url_for("notifications.index"))


@bp.get("/<int:notification_id>/open")
@login_required
@commits
def open_one(notification_id: int):
    """Marks the message read (and opened on the channel it came by) and goes to its page."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    mark_read(db.session, current_user.id, [notification.id])
    via = request.args.get("via")
    if via:
        mark_opened(db.session, notification.id, via, now=utcnow())
    return redirect(notification.link or url_for("notifications.index"))
