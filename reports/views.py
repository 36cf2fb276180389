"""Report pages: the map, a region's drill-down, a shop's card, exports, targets."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

import reports.hooks  # noqa: F401 - connects the rollup receiver to registration_recorded
from partner_club.accounts.access import EVERYTHING, STAFF, roles_required
from partner_club.accounts.models import Role
from partner_club.database import utcnow
from partner_club.errors import DomainError, Forbidden, NotFound
from partner_club.extensions import db
from partner_club.nav import NavItem
from partner_club.web import commits, discard, refuse
from reports import analytics, exports, mailing, maps, services, subscriptions, targets
from reports.kpi import METRICS, STATUS_COLOURS, STATUS_LABELS
from reports.models import Frequency, Target
from reports.periods import Period, current_month, parse_period

bp = Blueprint("reports", __name__, url_prefix="/reports")
SHOP_ROWS = 100  # shop table rows shown at once under a region map
bp.nav = [
    NavItem("reports.map_country", _l("KPI map"), STAFF, 40),
    NavItem("reports.analytics_page", _l("Programme analytics"), EVERYTHING, 42),
    NavItem("reports.targets_page", _l("KPI targets"), EVERYTHING, 44),
    NavItem("reports.subscriptions_page", _l("Report e-mails"), STAFF, 46),
]


def _period() -> tuple[Period, str | None]:
    """The asked period, or this month with a message when it cannot be read."""
    raw = request.args.get("period")
    if not raw:
        return current_month(utcnow()), None
    try:
        return parse_period(raw), None
    except DomainError as error:
        return current_month(utcnow()), error.message


def _labels() -> dict[str, str]:
    """Every text of the hover cards, translated once per page rather than once per shop."""
    texts = {"shops": _("active shops"), "no_data": _("no data")}
    texts.update({key: str(metric.label) for key, metric in METRICS.items()})
    texts.update({status: str(label) for status, label in STATUS_LABELS.items()})
    return texts


def _legend() -> list[tuple[str, str, str]]:
    return [(status, STATUS_COLOURS[status], str(label)) for status, label in STATUS_LABELS.items()]


def _or_abort(call, *args: Any, **kwargs: Any):
    try:
        return call(*args, **kwargs)
    except NotFound as error:
        return render_template("errors.html", code=404, message=error.message), 404
    except Forbidden as error:
        return render_template("errors.html", code=403, message=error.message), 403


def _locale() -> str:
    return str(get_locale() or "ru")


def _url_pattern(endpoint: str, key: str, **values: Any):
    """url_for once, then the id swapped in: hundreds of markers, one URL build."""
    marker = 987654321
    pattern = url_for(endpoint, **{key: marker}, **values)
    return lambda row: pattern.replace(str(marker), str(row.id), 1)


@bp.context_processor
def _report_globals() -> dict[str, Any]:
    return {"status_labels": {status: str(label) for status, label in STATUS_LABELS.items()}}


def _shapes_pattern() -> str:
    return url_for(".map_shapes", level=0).replace("/0.json", "/{level}.json")


@bp.get("/map")
@roles_required(*STAFF)
def map_country():
    period, problem = _period()
    report = _or_abort(
        services.country_report, db.session, current_user, period, now=utcnow(), locale=_locale()
    )
    if isinstance(report, tuple):
        return report
    page = maps.country_page(
        report,
        labels=_labels(),
        url_for_region=lambda r: url_for(".map_region", iso=r.code, period=period.key),
        shapes_url=_shapes_pattern(),
        region_shapes_url=url_for(".map_region_shape", level=0, iso="XX").replace(
            "/0/XX.json", "/{level}/{iso}.json"
        ),
        tile_url=current_app.config.get("MAP_TILE_URL"),
        locale=_locale(),
    )
    listed = [row for row in report.rows if maps.in_programme(row)]
    return render_template(
        "reports/map.html",
        report=report,
        map_json=maps.page_json(page),
        listed=listed,
        unlisted=len(report.rows) - len(listed),
        problem=problem,
        legend=_legend(),
        metrics=METRICS,
        period=period,
    )


def _shapes_response(shapes: maps.ShapeFile) -> Response:
    """Shapes are the same for every reader: gzipped when the browser accepts it, cached a day."""
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
    response = Response(shapes.gzipped if gzipped else shapes.body, mimetype="application/geo+json")
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.cache_control.private = True
    response.cache_control.max_age = 86400
    response.set_etag(shapes.etag)
    return response.make_conditional(request)


@bp.get("/map/shapes/<int:level>.json")
@roles_required(*STAFF)
def map_shapes(level: int):
    """Every region's shape at a country-wide zoom level."""
    shapes = _or_abort(maps.shape_file, db.session, level)
    return shapes if isinstance(shapes, tuple) else _shapes_response(shapes)


@bp.get("/map/shapes/<int:level>/<iso>.json")
@roles_required(*STAFF)
def map_region_shape(level: int, iso: str):
    """One region's shape at a finer zoom level, fetched only while it is in view."""
    shapes = _or_abort(maps.region_shape_file, db.session, level, iso)
    return shapes if isinstance(shapes, tuple) else _shapes_response(shapes)


@bp.get("/map/<iso>")
@roles_required(*STAFF)
def map_region(iso: str):
    period, problem = _period()
    report = _or_abort(
        services.region_report, db.session, current_user, iso, period, now=utcnow(), locale=_locale()
    )
    if isinstance(report, tuple):
        return report
    territory_id = request.args.get("territory", type=int)
    page = maps.region_page(
        report,
        labels=_labels(),
        tile_url=current_app.config.get("MAP_TILE_URL"),
        url_for_territory=lambda r: (
            url_for(".map_region", iso=report.region.iso_code, period=period.key, territory=r.id) + "#shops"
        ),
        url_for_outlet=_url_pattern(".shop", "outlet_id", period=period.key),
        shapes_url=_shapes_pattern(),
        locale=_locale(),
    )
    shops = [s for s in report.outlets if territory_id is None or s.territory_id == territory_id]
    chosen = next((t for t in report.rows if t.id == territory_id), None)
    hidden = 0
    if len(shops) > SHOP_ROWS and not request.args.get("all"):
        hidden, shops = len(shops) - SHOP_ROWS, shops[:SHOP_ROWS]  # the furthest behind; all are in the CSV
    return render_template(
        "reports/map.html",
        report=report,
        map_json=maps.page_json(page),
        problem=problem,
        legend=_legend(),
        metrics=METRICS,
        period=period,
        shops=shops,
        territory=chosen,
        hidden=hidden,
    )


@bp.get("/shop/<int:outlet_id>")
@roles_required(*STAFF)
def shop(outlet_id: int):
    period, problem = _period()
    card = _or_abort(services.shop_card, db.session, current_user, outlet_id, period, now=utcnow())
    if isinstance(card, tuple):
        return card
    return render_template(
        "reports/shop.html",
        card=card,
        period=period,
        problem=problem,
        metrics=METRICS,
        chart=analytics.line_chart(
            [m.strftime("%m.%y") for m in card.months], card.series, title=_("Registrations by product")
        ),
    )


def _download(columns, rows, name: str, fmt: str) -> Response:
    if fmt == "xlsx":
        return Response(
            exports.to_xlsx(columns, rows, title=name),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return Response(
        exports.to_csv(columns, rows),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@bp.get("/export/<any(csv, xlsx):fmt>")
@bp.get("/export/<iso>/<any(csv, xlsx):fmt>")
@roles_required(*STAFF)
def export(fmt: str, iso: str | None = None):
    period, problem = _period()
    if problem:
        return render_template("errors.html", code=422, message=problem), 422
    if iso:
        report = _or_abort(
            services.region_report, db.session, current_user, iso, period, now=utcnow(), locale=_locale()
        )
    else:
        report = _or_abort(
            services.country_report, db.session, current_user, period, now=utcnow(), locale=_locale()
        )
    if isinstance(report, tuple):
        return report
    columns, rows = exports.report_table(report)
    return _download(columns, rows, f"kpi-{iso or 'country'}-{period.key}", fmt)


@bp.get("/shop/<int:outlet_id>/export/<any(csv, xlsx):fmt>")
@roles_required(*STAFF)
def shop_export(outlet_id: int, fmt: str):
    period, _problem = _period()
    card = _or_abort(services.shop_card, db.session, current_user, outlet_id, period, now=utcnow())
    if isinstance(card, tuple):
        return card
    columns, rows = exports.shop_table(card)
    return _download(columns, rows, f"shop-{outlet_id}-{period.key}", fmt)


# --- targets -----------------------------------------------------------------


@bp.route("/targets", methods=["GET", "POST"])
@roles_required(*EVERYTHING)
@commits
def targets_page():
    errors: list[tuple[int, str]] = []
    if request.method == "POST" and current_user.role != Role.ADMIN.value:
        abort(403)  # head office reads the targets; it never changes them
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is not None and upload.filename:
                result = targets.import_targets(db.session, upload.read(), actor=current_user)
                errors = result.errors
                if errors:
                    discard()
                    flash(_("Nothing was loaded: fix the lines below and load the file again."), "error")
                else:
                    flash(_("%(count)s targets loaded.", count=result.saved), "success")
                    return redirect(url_for(".targets_page"))
            else:
                kind, scope_id = targets.resolve_scope(
                    db.session, request.form.get("scope", ""), request.form.get("code", "")
                )
                targets.set_target(
                    db.session,
                    scope_kind=kind,
                    scope_id=scope_id,
                    metric=request.form.get("metric", ""),
                    period=request.form.get("period", ""),
                    value=targets.parse_value(request.form.get("value", "")),
                    actor=current_user,
                )
                flash(_("Target saved."), "success")
                return redirect(url_for(".targets_page", period=request.form.get("period", "")))
        except DomainError as error:
            flash(refuse(error), "error")
    period, problem = _period()
    rows = db.session.scalars(
        select(Target)
        .where(Target.period == period.key)
        .order_by(Target.scope_kind, Target.metric, Target.id)
    ).all()
    return render_template(
        "reports/targets.html", rows=rows, errors=errors, metrics=METRICS, period=period, problem=problem
    )


@bp.post("/targets/<int:target_id>/delete")
@roles_required(Role.ADMIN)
@commits
def delete_target(target_id: int):
    try:
        targets.delete_target(db.session, target_id, actor=current_user)
        flash(_("Target deleted."), "success")
    except DomainError as error:
        flash(refuse(error), "error")
    return redirect(url_for(".targets_page", period=request.form.get("period", "")))


# --- analytics and subscriptions -------------------------------------------------


@bp.get("/analytics")
@roles_required(*EVERYTHING)
def analytics_page():
    summary = analytics.programme_summary(db.session, now=utcnow())
    return render_template(
        "reports/analytics.html",
        summary=summary,
        charts=analytics.charts(summary),
        segments=analytics.SEGMENTS,
    )


@bp.route("/subscriptions", methods=["GET", "POST"])
@roles_required(*STAFF)
@commits
def subscriptions_page():
    if request.method == "POST":
        try:
            if request.form.get("action") == "cancel":
                subscriptions.unsubscribe(db.session, current_user, request.form.get("frequency", ""))
                flash(_("You will no longer receive this report."), "success")
            else:
                subscriptions.subscribe(
                    db.session, current_user, request.form.get("frequency", ""), now=utcnow()
                )
                flash(_("Subscribed. The first report comes with the next mailing."), "success")
        except DomainError as error:
            flash(refuse(error), "error")
        return redirect(url_for(".subscriptions_page"))
    chooser = subscriptions.may_choose_recipients(current_user)
    return render_template(
        "reports/subscriptions.html",
        mine=subscriptions.of_user(db.session, current_user),
        frequencies=[f for f in Frequency if f is not Frequency.DAILY],
        chooser=chooser,
        people=subscriptions.recipients(db.session, current_user) if chooser else [],
        managed=subscriptions.managed(db.session, current_user) if chooser else [],
        form=request.args,
        confirmed=lambda person: subscriptions.confirmed_address(person) is not None,
        **_schedule_choices(),
    )


def _schedule_choices() -> dict[str, Any]:
    return {
        "frequency_labels": subscriptions.FREQUENCY_LABELS,
        "span_labels": subscriptions.SPAN_LABELS,
        "zones": subscriptions.ZONES,
        "club_zone": subscriptions.CLUB_ZONE,
        "weekdays": [
            _("Monday"),
            _("Tuesday"),
            _("Wednesday"),
            _("Thursday"),
            _("Friday"),
            _("Saturday"),
            _("Sunday"),
        ],
    }


def _chosen(values) -> tuple[Any, subscriptions.Schedule]:
    """The recipient (in the person's scope, or NotFound) and the schedule a form names."""
    person = subscriptions.recipient(db.session, current_user, values.get("recipient", type=int))
    schedule = subscriptions.parse_schedule(
        values.get("frequency", ""),
        weekday=values.get("weekday", "0"),
        hour=values.get("hour", str(subscriptions.SEND_HOUR)),
        time_zone=values.get("time_zone", ""),
        span=values.get("span", ""),
    )
    return person, schedule


@bp.post("/subscriptions/schedule")
@roles_required(*subscriptions.CHOOSERS)
@commits(back=".subscriptions_page")
def schedule_report():
    person, schedule = _chosen(request.form)
    subscriptions.schedule_report(db.session, current_user, person, schedule, now=utcnow())
    flash(_("Saved: %(name)s will receive the report.", name=person.display_name), "success")
    return redirect(url_for(".subscriptions_page"))


@bp.post("/subscriptions/<int:subscription_id>/cancel")
@roles_required(*subscriptions.CHOOSERS)
@commits(back=".subscriptions_page")
def cancel_report(subscription_id: int):
    subscriptions.cancel(db.session, current_user, subscription_id)
    flash(_("The report e-mail is cancelled."), "success")
    return redirect(url_for(".subscriptions_page"))


def _preview_message():
    try:
        person, schedule = _chosen(request.args)
        address = subscriptions.mail_address(person) or ""
        message = mailing.build_message(
            db.session,
            person,
            schedule.frequency,
            now=utcnow(),
            to=address,
            span=schedule.span,
            zone=schedule.time_zone,
        )
    except NotFound:
        abort(404)
    except DomainError as error:
        return None, None, error.message
    return person, message, None


@bp.get("/subscriptions/preview")
@roles_required(*STAFF)
def preview_report():
    """The e-mail as the recipient would get it now, in the recipient's language."""
    person, message, error = _preview_message()
    return render_template(
        "reports/subscription_preview.html",
        person=person,
        message=message,
        error=error,
        query=request.query_string.decode(),
        **_schedule_choices(),
    )


@bp.get("/subscriptions/preview.html")
@roles_required(*STAFF)
def preview_report_html():
    """The HTML part alone, for the preview's frame: no script may run in it."""
    _person, message, error = _preview_message()
    if message is None:
        abort(422, error)
    response = Response(mailing.preview_html(message), mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; "
        "frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
