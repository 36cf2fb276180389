"""Staff pages of the catalog: prizes, CSV upload, the order queue, exports, the tax register.

The routes hang on the `catalog` blueprint (views.py calls `register`), so the
package keeps one blueprint while each file stays short.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from catalog import bulk_orders, fulfilment, services, tax
from catalog.forms import CancelForm, ImportForm, PrizeForm, ShipForm, StockForm, TaxSettingsForm
from catalog.jobs import retry_waiting_orders
from catalog.labels import provider_label
from catalog.models import ORDER_STATUS_LABELS, Order, OrderStatus, Prize
from catalog.prizes import (
    CSV_COLUMNS,
    PrizeData,
    all_prizes,
    categories,
    delete_prize,
    import_prizes,
    save_prize,
    set_stock,
)
from catalog.providers import PROVIDERS
from partner_club import spreadsheets
from partner_club.accounts.access import roles_required
from partner_club.accounts.models import Role
from partner_club.confirm import confirmation
from partner_club.database import utcnow
from partner_club.errors import DomainError
from partner_club.extensions import db
from partner_club.jobs.services import enqueue
from partner_club.regions.models import Region
from partner_club.web import commits, discard, refuse

ADMIN = Role.ADMIN


def _locale() -> str:
    return str(get_locale() or "ru")


# --- prizes ---------------------------------------------------------------


@roles_required(ADMIN)
def admin_prizes():
    query = request.args.get("q", "").strip()[:100]
    return render_template(
        "catalog/admin/prizes.html",
        prizes=list(all_prizes(db.session, query=query)),
        query=query,
        locale=_locale(),
        stock_form=StockForm(),
    )


def _prize_form(prize: Prize | None) -> PrizeForm:
    form = PrizeForm(obj=None)
    form.category.choices = [(c.id, c.name(_locale())) for c in categories(db.session)]
    form.provider.choices = [(name, provider_label(name)) for name in PROVIDERS]
    form.regions.choices = [
        (r.id, f"{r.iso_code} {r.name(_locale())}")
        for r in db.session.scalars(select(Region).order_by(Region.iso_code))
    ]
    if request.method == "GET" and prize is not None:
        form.category.data, form.name_ru.data, form.name_en.data = (
            prize.category_id,
            prize.name_ru,
            prize.name_en,
        )
        form.description_ru.data, form.description_en.data = prize.description_ru, prize.description_en
        form.points.data, form.value_rub.data, form.stock.data = prize.points, prize.value_rub, prize.stock
        form.provider.data, form.provider_sku.data = prize.provider, prize.provider_sku
        form.regions.data, form.roles.data, form.active.data = prize.region_ids, prize.roles, prize.active
    return form


@roles_required(ADMIN)
@commits
def admin_prize_edit(prize_id: int | None = None):
    prize = None if prize_id is None else (db.session.get(Prize, prize_id) or abort(404))
    form = _prize_form(prize)
    if form.validate_on_submit():
        data = PrizeData(
            category_id=form.category.data,
            name_en=form.name_en.data,
            name_ru=form.name_ru.data,
            description_en=form.description_en.data or "",
            description_ru=form.description_ru.data or "",
            points=form.points.data,
            value_rub=float(form.value_rub.data),
            stock=form.stock.data,
            provider=form.provider.data,
            provider_sku=form.provider_sku.data,
            region_ids=form.regions.data or [],
            roles=form.roles.data or [],
            active=form.active.data,
        )
        upload = form.picture.data
        try:
            saved = save_prize(
                db.session, data, actor=current_user, prize=prize, picture=upload.read() if upload else None
            )
        except DomainError as error:
            (form.picture.errors if error.code == "bad_picture" else form.form_errors).append(refuse(error))
        else:
            flash(_("Prize “%(name)s” saved.", name=saved.name(_locale())), "success")
            return redirect(url_for("catalog.admin_prizes"))
    return render_template("catalog/admin/prize_form.html", form=form, prize=prize)


@roles_required(ADMIN)
@commits
def admin_prize_stock(prize_id: int):
    prize = db.session.get(Prize, prize_id) or abort(404)
    form = StockForm()
    if form.validate_on_submit():
        set_stock(db.session, prize, form.stock.data, actor=current_user)
        flash(_("Stock of “%(name)s”: %(count)d.", name=prize.name(_locale()), count=prize.stock), "success")
    else:
        flash(_("The stock must be a whole number, zero or more."), "error")
    return redirect(url_for("catalog.admin_prizes"))


@roles_required(ADMIN)
@commits
def admin_import():
    form = ImportForm()
    result = None
    if form.validate_on_submit():
        raw = form.csv_file.data.read() if form.csv_file.data else b""
        pictures = form.pictures.data.read() if form.pictures.data else None
        try:
            if not raw:
                raise DomainError(_("Choose the CSV file."), code="no_csv")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise DomainError(_("The CSV must be saved as UTF-8."), code="bad_csv") from None
            result = import_prizes(db.session, text, pictures, actor=current_user)
        except DomainError as error:
            form.csv_file.errors.append(refuse(error))
        else:
            if result.errors:
                discard()
                flash(_("Nothing was imported: correct the lines below and upload again."), "error")
            else:
                flash(
                    _(
                        "Imported: %(created)d new, %(updated)d updated.",
                        created=result.created,
                        updated=result.updated,
                    ),
                    "success",
                )
                return redirect(url_for("catalog.admin_prizes"))
    return render_template("catalog/admin/import.html", form=form, result=result, columns=CSV_COLUMNS)


# --- orders ---------------------------------------------------------------


@roles_required(ADMIN)
def admin_orders():
    status = request.args.get("status") or None
    if status and status not in {s.value for s in OrderStatus}:
        status = None
    return render_template(
        "catalog/admin/orders.html",
        orders=services.order_queue(db.session, status=status),
        status=status,
        labels=ORDER_STATUS_LABELS,
        locale=_locale(),
        waiting=fulfilment.orders_waiting_for_providers(db.session),
    )


@roles_required(ADMIN)
def admin_order(order_id: int):
    order = db.session.get(Order, order_id) or abort(404)
    return render_template(
        "catalog/order.html",
        order=order,
        locale=_locale(),
        staff=True,
        ship_form=ShipForm(),
        cancel_form=CancelForm(),
    )


@roles_required(ADMIN)
def admin_order_cancel_confirm(order_id: int):
    """What cancelling the order does; nothing changes until the next step."""
    order = db.session.get(Order, order_id) or abort(404)
    back = url_for("catalog.admin_order", order_id=order_id)
    if not CancelForm().validate_on_submit():
        flash(_("Give the reason for cancelling: the person will see it."), "error")
        return redirect(back)
    return confirmation(
        title=_("Cancel order %(id)d?", id=order.id),
        consequences=[
            ngettext(
                "%(count)s point returns to %(name)s's balance.",
                "%(count)s points return to %(name)s's balance.",
                order.points,
                count=format_decimal(order.points),
                name=order.user.display_name,
            ),
            _("The prizes go back to stock, and %(name)s is told why.", name=order.user.display_name),
        ],
        action=url_for("catalog.admin_order_action", order_id=order.id, action="cancel"),
        button=_("Cancel the order"),
        back=back,
    )


@roles_required(ADMIN)
@commits
def admin_order_action(order_id: int, action: str):
    try:
        if action == "confirm":
            services.confirm_order(db.session, order_id, actor=current_user)
        elif action == "ship":
            services.ship_order(
                db.session,
                order_id,
                tracking_number=request.form.get("tracking_number", ""),
                actor=current_user,
            )
        elif action == "deliver":
            services.deliver_order(db.session, order_id, actor=current_user)
        elif action == "cancel":
            services.cancel_order(
                db.session, order_id, reason=request.form.get("reason", ""), actor=current_user
            )
        elif action == "retry":
            fulfilment.submit_to_providers(db.session, order_id, current_app.config)
        else:
            abort(404)
    except DomainError as error:
        flash(refuse(error), "error")
    else:
        flash(_("Order %(id)d: done.", id=order_id), "success")
    return redirect(url_for("catalog.admin_order", order_id=order_id))


def _chosen_ids() -> list[int]:
    return [int(v) for v in request.values.getlist("order") if v.isdigit()]


@roles_required(ADMIN)
@commits
def admin_orders_bulk():
    """Several orders moved at once: GET shows what will happen, POST does it."""
    action = request.values.get("action", "")
    if request.method == "POST":
        tracking = {i: request.form.get(f"tracking_{i}", "") for i in _chosen_ids()}
        try:
            moved = bulk_orders.move_orders(
                db.session,
                _chosen_ids(),
                action,
                actor=current_user,
                tracking=tracking,
                reason=request.form.get("reason", ""),
            )
        except DomainError as error:
            flash(refuse(error), "error")
        else:
            flash(BULK_DONE[moved.action](moved.orders, moved.points), "success")
            return redirect(url_for("catalog.admin_orders"))
    try:
        if action not in bulk_orders.BULK_ACTIONS:
            raise DomainError(_("Choose ship, deliver or cancel."))
        orders = bulk_orders.selected_orders(db.session, _chosen_ids())
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("catalog.admin_orders"))
    return render_template(
        "catalog/admin/orders_bulk.html",
        orders=orders,
        action=action,
        points=sum(o.points for o in orders),
        locale=_locale(),
    )


BULK_DONE = {
    "ship": lambda n, _p: _("Orders shipped: %(count)d.", count=n),
    "deliver": lambda n, _p: _("Orders delivered: %(count)d.", count=n),
    "cancel": lambda n, p: _("Orders cancelled: %(count)d; %(points)d points refunded.", count=n, points=p),
}


@roles_required(ADMIN)
@commits
def admin_retry_providers():
    job = enqueue(
        db.session,
        retry_waiting_orders,
        title=_("Ask the gift-card providers again"),
        created_by_id=current_user.id,
    )
    return redirect(url_for("jobs.show", job_id=job.id))


@roles_required(ADMIN)
@commits
def admin_prize_delete(prize_id: int):
    prize = db.session.get(Prize, prize_id) or abort(404)
    try:
        delete_prize(db.session, prize, actor=current_user)
    except DomainError as error:
        flash(refuse(error), "error")
        return redirect(url_for("catalog.admin_prize_edit", prize_id=prize_id))
    flash(_("Prize deleted."), "success")
    return redirect(url_for("catalog.admin_prizes"))


EXPORT_HEADER = (
    "order_id",
    "status",
    "placed_at",
    "name",
    "phone",
    "address",
    "tracking_number",
    "prize_id",
    "sku",
    "prize",
    "quantity",
    "points",
)


@roles_required(ADMIN)
def admin_orders_csv():
    status = request.args.get("status") or None
    rows = (
        (
            order.id,
            order.status,
            order.placed_at.isoformat(timespec="seconds"),
            order.user.display_name,
            order.phone,
            order.address,
            order.tracking_number or "",
            line.prize_id,
            line.provider_sku,
            line.prize.name(_locale()),
            line.quantity,
            line.points,
        )
        for order in services.order_queue(db.session, status=status, limit=100_000)
        for line in order.lines
    )
    name = f"prize-orders-{status or 'all'}-{utcnow():%Y%m%d}.csv"
    return Response(
        spreadsheets.csv_text(EXPORT_HEADER, rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- the tax register -----------------------------------------------------


def _year() -> int:
    year = request.args.get("year", type=int)
    return year if year and 2000 <= year <= 2100 else tax.tax_year(utcnow())


@roles_required(ADMIN, Role.HEAD_OFFICE)
def tax_register():
    year = _year()
    settings = tax.tax_settings(db.session)
    form = TaxSettingsForm(
        data={"allowance_rub": settings.allowance_rub, "rate_percent": settings.rate_percent}
    )
    rows = tax.tax_register(db.session, year)
    return render_template(
        "catalog/admin/tax.html",
        rows=rows,
        year=year,
        settings=settings,
        form=form,
        totals={
            k: sum(getattr(r, k) for r in rows) for k in ("value_kopecks", "taxable_kopecks", "tax_kopecks")
        },
    )


@roles_required(ADMIN, Role.HEAD_OFFICE)
def tax_register_export(fmt: str):
    year = _year()
    rows = tax.tax_register(db.session, year)
    if fmt == "csv":
        return Response(
            "\ufeff" + tax.register_csv(rows),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="prize-tax-{year}.csv"'},
        )
    if fmt == "xlsx":
        return Response(
            tax.register_xlsx(rows, year),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="prize-tax-{year}.xlsx"'},
        )
    return abort(404)


@roles_required(ADMIN)
@commits
def tax_settings_save():
    form = TaxSettingsForm()
    if form.validate_on_submit():
        try:
            tax.save_tax_settings(
                db.session,
                allowance_rub=form.allowance_rub.data,
                rate_percent=form.rate_percent.data,
                actor=current_user,
            )
        except DomainError as error:
            flash(refuse(error), "error")
        else:
            flash(_("Tax settings saved."), "success")
    else:
        flash(_("Enter the allowance in whole roubles and the rate in percent."), "error")
    return redirect(url_for("catalog.tax_register"))


def register(bp: Blueprint) -> None:
    add = bp.add_url_rule
    add("/admin/prizes", view_func=admin_prizes)
    add("/admin/prizes/new", view_func=admin_prize_edit, endpoint="admin_prize_new", methods=["GET", "POST"])
    add("/admin/prizes/<int:prize_id>", view_func=admin_prize_edit, methods=["GET", "POST"])
    add("/admin/prizes/<int:prize_id>/stock", view_func=admin_prize_stock, methods=["POST"])
    add("/admin/prizes/import", view_func=admin_import, methods=["GET", "POST"])
    add("/admin/orders", view_func=admin_orders)
    add("/admin/orders.csv", view_func=admin_orders_csv)
    add("/admin/orders/bulk", view_func=admin_orders_bulk, methods=["GET", "POST"])
    add("/admin/orders/retry-providers", view_func=admin_retry_providers, methods=["POST"])
    add("/admin/prizes/<int:prize_id>/delete", view_func=admin_prize_delete, methods=["POST"])
    add("/admin/orders/<int:order_id>", view_func=admin_order)
    add("/admin/orders/<int:order_id>/<action>", view_func=admin_order_action, methods=["POST"])
    add("/admin/orders/<int:order_id>/cancel/confirm", view_func=admin_order_cancel_confirm, methods=["POST"])
    add("/admin/tax", view_func=tax_register)
    add("/admin/tax.<fmt>", view_func=tax_register_export)
    add("/admin/tax/settings", view_func=tax_settings_save, methods=["POST"])
