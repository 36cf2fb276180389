"""Staff pages: mailings to segments, their progress and counts, and call lists."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from partner_club import spreadsheets
from partner_club.accounts.access import outlet_filter, roles_required
from partner_club.accounts.models import Role
from partner_club.audit.services import record
from partner_club.database import utcnow
from partner_club.errors import DomainError
from partner_club.extensions import db
from partner_club.mailings import calls, jobs, segments, services
from partner_club.mailings.models import CallEntry, CallList, Mailing
from partner_club.nav import NavItem
from partner_club.outlets.kinds import outlet_kinds
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region, Territory
from partner_club.web import commits, refuse

# Head office reads KPIs; sending to people and their phone numbers is the organizer's
# staff's and the regional managers' work.
SENDERS = (Role.ADMIN, Role.REGIONAL_MANAGER)
bp = Blueprint("mailings", __name__, url_prefix="/mailings")
bp.nav = [NavItem("mailings.index", _l("Mailings and calls"), frozenset(SENDERS), 48)]


@bp.context_processor
def _labels() -> dict[str, Any]:
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Moscow"))
    return {
        "status_labels": services.STATUS_LABELS,
        "local_time": lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "",
    }


def _locale() -> str:
    return str(get_locale() or "ru")


def _segment_from_form() -> dict[str, Any]:
    form = request.form
    return {
        "regions": form.getlist("regions"),
        "territories": form.getlist("territories"),
        "kinds": form.getlist("kinds"),
        "roles": form.getlist("roles"),
        "inactive_days": form.get("inactive_days", ""),
        "active_days": form.get("active_days", ""),
        "rfm": form.getlist("rfm"),
        "shops": segments.parse_shop_list(form.get("shops", "")),
    }


def _draft_from_form() -> services.MailingDraft:
    form = request.form
    return services.MailingDraft(
        title_ru=form.get("title_ru", ""),
        title_en=form.get("title_en", ""),
        body_ru=form.get("body_ru", ""),
        body_en=form.get("body_en", ""),
        channels=form.getlist("channels"),
        segment=_segment_from_form(),
    )


def _choices() -> dict[str, Any]:
    scope = outlet_filter(current_user)
    region_ids = select(Outlet.region_id).where(scope).distinct()
    regions = db.session.scalars(
        select(Region).where(Region.id.in_(region_ids)).order_by(Region.name_ru)
    ).all()
    territories = db.session.scalars(
        select(Territory).where(Territory.region_id.in_(region_ids)).order_by(Territory.name)
    ).all()
    rfm = segments.OUTLET_CLASSES.get("rfm")
    return {
        "regions": regions,
        "territories": territories,
        "kinds": outlet_kinds(db.session),
        "rfm_labels": rfm.labels if rfm else {},
        "roles": segments.ROLES,
        "channel_labels": services.CHANNEL_LABELS,
        "zone": current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Moscow"),
    }


def _mailing(mailing_id: int) -> Mailing:
    mailing = db.session.get(Mailing, mailing_id)
    if mailing is None or not services.can_see(current_user, mailing):
        abort(404)
    return mailing


def _call_list(list_id: int) -> CallList:
    call_list = db.session.get(CallList, list_id)
    if call_list is None or not calls.can_see(current_user, call_list):
        abort(404)
    return call_list


@bp.get("/")
@roles_required(*SENDERS)
def index():
    region = services.scope_region(current_user)
    mailings = select(Mailing).order_by(Mailing.id.desc()).limit(100)
    lists = select(CallList).order_by(CallList.id.desc()).limit(100)
    if region is not None:
        mailings = mailings.where(Mailing.region_id == region)
        lists = lists.where(CallList.region_id == region)
    return render_template(
        "mailings/index.html",
        mailings=db.session.scalars(mailings).all(),
        call_lists=db.session.scalars(lists).all(),
        cap=services.weekly_cap(db.session),
        rate=services.rate_per_second(db.session),
    )


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:mailing_id>/edit", methods=["GET", "POST"])
@roles_required(*SENDERS)
@commits
def edit(mailing_id: int | None = None):
    mailing = _mailing(mailing_id) if mailing_id is not None else None
    if request.method == "GET":
        return render_template("mailings/edit.html", mailing=mailing, form={}, **_choices())
    action = request.form.get("action", "draft")
    try:
        if action == "call_list":
            call_list = calls.create_call_list(
                db.session,
                title=request.form.get("list_title", "") or request.form.get("title_ru", ""),
                reason=request.form.get("reason", ""),
                segment=_segment_from_form(),
                actor=current_user,
                now=utcnow(),
                locale=_locale(),
            )
            flash(_("The call list is ready."), "success")
            return redirect(url_for("mailings.call_list", list_id=call_list.id))
        mailing = services.save_mailing(db.session, _draft_from_form(), actor=current_user, mailing=mailing)
        if action == "schedule":
            send_at = services.club_time(request.form.get("send_at", ""), _choices()["zone"])
            services.schedule(db.session, mailing, send_at, actor=current_user, now=utcnow())
            flash(_("The mailing is scheduled."), "success")
        elif action == "send":
            jobs.start_sending(db.session, mailing, actor=current_user, now=utcnow())
            flash(_("The mailing is being sent."), "success")
        else:
            flash(_("Saved as a draft."), "success")
    except DomainError as error:
        flash(refuse(error), "error")
        return render_template("mailings/edit.html", mailing=mailing, form=request.form, **_choices()), 422
    return redirect(url_for("mailings.show", mailing_id=mailing.id))


@bp.post("/audience")
@roles_required(*SENDERS)
def audience():
    """The segment's size and the SMS cost, for the form as it is being edited (reads only)."""
    try:
        draft = _draft_from_form()
        draft.segment = segments.clean(draft.segment)
        segments.check_scope(db.session, draft.segment, current_user)
    except DomainError as error:
        return jsonify({"error": error.message}), 422
    now, scope = utcnow(), outlet_filter(current_user)
    size = segments.audience_size(db.session, draft.segment, scope, now)
    default = current_app.config.get("BABEL_DEFAULT_LOCALE", "ru")
    cost = services.sms_cost(db.session, draft, scope, now, default)
    return jsonify(
        {
            "people": size.people,
            "shops": size.shops,
            "parts_ru": cost.parts_ru,
            "parts_en": cost.parts_en,
            "sms_total": cost.total if "sms" in draft.channels else 0,
        }
    )


@bp.get("/<int:mailing_id>")
@roles_required(*SENDERS)
def show(mailing_id: int):
    mailing = _mailing(mailing_id)
    default = current_app.config.get("BABEL_DEFAULT_LOCALE", "ru")
    draft = services.MailingDraft(
        title_ru=mailing.title_ru,
        title_en=mailing.title_en,
        body_ru=mailing.body_ru,
        body_en=mailing.body_en,
        segment=mailing.segment,
    )
    scope = services.mailing_scope(mailing)
    return render_template(
        "mailings/show.html",
        mailing=mailing,
        counts=services.counts(db.session, mailing),
        size=segments.audience_size(db.session, mailing.segment, scope, utcnow()),
        cost=services.sms_cost(db.session, draft, scope, utcnow(), default),
        described=segments.describe(db.session, mailing.segment, _locale()),
        channel_labels=services.CHANNEL_LABELS,
        zone=current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Moscow"),
    )


@bp.get("/<int:mailing_id>/counts.json")
@roles_required(*SENDERS)
def counts(mailing_id: int):
    mailing = _mailing(mailing_id)
    result = services.counts(db.session, mailing)
    return jsonify({"status": mailing.status, "percent": result.percent, **vars(result)})


@bp.post("/<int:mailing_id>/cancel")
@roles_required(*SENDERS)
@commits(back=lambda mailing_id: url_for("mailings.show", mailing_id=mailing_id))
def cancel(mailing_id: int):
    services.cancel(db.session, _mailing(mailing_id), actor=current_user)
    flash(_("The mailing is cancelled."), "success")
    return redirect(url_for("mailings.show", mailing_id=mailing_id))


@bp.post("/limits")
@roles_required(Role.ADMIN)
@commits(back="mailings.index")
def limits():
    try:
        cap, rate = int(request.form.get("cap", "")), int(request.form.get("rate", ""))
    except ValueError:
        flash(_("Give whole numbers."), "error")
        return redirect(url_for("mailings.index"))
    services.set_limits(db.session, cap=cap, rate=rate, actor=current_user)
    flash(_("Saved."), "success")
    return redirect(url_for("mailings.index"))


@bp.get("/calls/<int:list_id>")
@roles_required(*SENDERS)
def call_list(list_id: int):
    found = _call_list(list_id)
    return render_template(
        "mailings/call_list.html",
        call_list=found,
        entries=calls.entries(db.session, found),
        outcomes=calls.OUTCOME_LABELS,
    )


@bp.get("/calls/<int:list_id>.<any(csv, xlsx):fmt>")
@roles_required(*SENDERS)
@commits
def call_list_export(list_id: int, fmt: str):
    found = _call_list(list_id)
    record(db.session, current_user, "mailings.call_list_export", found, format=fmt)
    rows = list(calls.export_rows(db.session, found))
    name = f"call-list-{found.id}.{fmt}"
    if fmt == "csv":
        body: Any = spreadsheets.csv_text(calls.export_columns(), rows)
        mimetype = "text/csv; charset=utf-8"
    else:
        body = spreadsheets.xlsx_bytes(calls.export_columns(), rows, title=_("Call list"))
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.post("/calls/<int:list_id>/entries/<int:entry_id>")
@roles_required(*SENDERS)
@commits(back=lambda list_id, entry_id: url_for("mailings.call_list", list_id=list_id))
def record_call(list_id: int, entry_id: int):
    found = _call_list(list_id)
    entry = db.session.get(CallEntry, entry_id)
    if entry is None or entry.call_list_id != found.id:
        abort(404)
    calls.record_call(
        db.session,
        entry,
        outcome=request.form.get("outcome", ""),
        note=request.form.get("note", ""),
        actor=current_user,
        now=utcnow(),
    )
    flash(_("The call is recorded."), "success")
    return redirect(url_for("mailings.call_list", list_id=list_id, _anchor=f"entry-{entry.id}"))
