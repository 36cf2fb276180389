"""Participant pages: the catalog, the cart, checkout, my orders. Staff pages live in admin_views."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from catalog import admin_views, labels, services
from catalog import home as catalog_home
from catalog.forms import CheckoutForm, TaxProfileForm
from catalog.jobs import schedule_submission
from catalog.models import CATEGORY_KIND_LABELS, CategoryKind, Prize, PrizePicture
from catalog.prizes import categories
from catalog.tax import save_tax_profile
from partner_club.accounts.access import PARTICIPANTS, roles_required
from partner_club.accounts.models import Role
from partner_club.errors import DomainError
from partner_club.extensions import db
from partner_club.ledger.services import balance_of
from partner_club.nav import NavItem
from partner_club.web import commits, refuse

bp = Blueprint("catalog", __name__, url_prefix="/prizes")
bp.nav = [
    NavItem("catalog.index", _l("Prizes"), PARTICIPANTS, 30),
    NavItem("catalog.my_orders", _l("My prize orders"), PARTICIPANTS, 31),
    NavItem("catalog.admin_prizes", _l("Prize catalog"), frozenset({Role.ADMIN}), 60),
    NavItem("catalog.admin_orders", _l("Prize orders"), frozenset({Role.ADMIN}), 61),
    NavItem("catalog.tax_register", _l("Prize tax register"), frozenset({Role.ADMIN, Role.HEAD_OFFICE}), 62),
]
bp.home_cards = catalog_home.CARDS
admin_views.register(bp)
bp.add_app_template_filter(labels.provider_label, "provider_label")
bp.add_app_template_filter(labels.provider_status_label, "provider_status_label")

CART = "catalog.cart"
CHECKOUT = "catalog.checkout"


def _locale() -> str:
    return str(get_locale() or "ru")


def _cart() -> dict[str, int]:
    cart = session.get(CART)
    return dict(cart) if isinstance(cart, dict) else {}


def _cart_lines() -> list[tuple[Prize, int]]:
    cart = _cart()
    if not cart:
        return []
    prizes = db.session.scalars(
        services.visible_prizes(current_user).where(Prize.id.in_([int(k) for k in cart]))
    ).all()
    return [(p, cart[str(p.id)]) for p in sorted(prizes, key=lambda p: p.id)]


@bp.get("/")
@roles_required(*PARTICIPANTS)
def index():
    query = request.args.get("q", "").strip()[:100]
    category_id = request.args.get("category", type=int)
    affordable = request.args.get("affordable") == "1"
    balance = balance_of(db.session, current_user)
    prizes = services.search_catalog(
        db.session,
        current_user,
        query=query,
        category_id=category_id,
        max_points=balance.active if affordable else None,
    )
    return render_template(
        "catalog/index.html",
        prizes=prizes,
        balance=balance,
        query=query,
        category_id=category_id,
        affordable=affordable,
        categories=categories(db.session),
        locale=_locale(),
        cart_count=sum(_cart().values()),
        kind_labels=CATEGORY_KIND_LABELS,
        CategoryKind=CategoryKind,
    )


@bp.get("/picture/<int:picture_id>")
def picture(picture_id: int):
    picture = db.session.get(PrizePicture, picture_id) or abort(404)
    response = make_response(picture.data)
    response.mimetype = picture.mimetype
    response.set_etag(picture.sha256)
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.make_conditional(request)


@bp.post("/cart/add/<int:prize_id>")
@roles_required(*PARTICIPANTS)
def cart_add(prize_id: int):
    prize = db.session.get(Prize, prize_id)
    if prize is None or not services.can_see_prize(current_user, prize):
        flash(_("This prize is not available to you (it may be limited to other regions)."), "error")
        return redirect(url_for("catalog.index"))
    cart = _cart()
    quantity = min(
        cart.get(str(prize_id), 0) + max(1, request.form.get("quantity", 1, type=int) or 1),
        services.MAX_QUANTITY,
    )
    # What cannot be paid for does not reach the cart: the cart with this prize within the active balance.
    others = sum(p.points * q for p, q in _cart_lines() if p.id != prize_id)
    short = others + prize.points * quantity - balance_of(db.session, current_user).active
    if short > 0:
        flash(
            _(
                "“%(name)s” is %(count)d points short of your balance.",
                name=prize.name(_locale()),
                count=short,
            ),
            "error",
        )
        return redirect(url_for("catalog.index"))
    cart[str(prize_id)] = quantity
    session[CART] = cart
    flash(_("“%(name)s” is in your cart.", name=prize.name(_locale())), "success")
    return redirect(
        request.form.get("back")
        if request.form.get("back", "").startswith("/prizes")
        else url_for("catalog.index")
    )


@bp.route("/cart", methods=["GET", "POST"])
@roles_required(*PARTICIPANTS)
def cart():
    if request.method == "POST":
        updated = {}
        for prize_id, quantity in _cart().items():
            value = request.form.get(f"q{prize_id}", type=int)
            quantity = quantity if value is None else value
            if quantity > 0 and request.form.get("remove") != prize_id:
                updated[prize_id] = min(quantity, services.MAX_QUANTITY)
        session[CART] = updated
        return redirect(url_for("catalog.cart"))
    lines = _cart_lines()
    total = sum(p.points * q for p, q in lines)
    return render_template(
        "catalog/cart.html",
        lines=lines,
        total=total,
        locale=_locale(),
        balance=balance_of(db.session, current_user),
    )


@bp.route("/checkout", methods=["GET", "POST"])
@roles_required(*PARTICIPANTS)
@commits
def checkout():
    lines = _cart_lines()
    if not lines:
        flash(_("Your cart is empty: choose a prize first."), "info")
        return redirect(url_for("catalog.index"))
    form = CheckoutForm()
    if request.method == "GET":
        remembered = session.get(CHECKOUT) or {}
        saved = services.saved_address(db.session, current_user)
        form.address.data = remembered.get("address") or (saved.address if saved else "")
        form.phone.data = remembered.get("phone") or (saved.phone if saved else current_user.phone or "")
        form.idempotency_key.data = uuid.uuid4().hex
    elif form.validate_on_submit():
        items = [services.Item(p.id, q) for p, q in lines]
        placed = None
        try:
            placed = services.place_order(
                db.session,
                current_user,
                items,
                address=form.address.data,
                phone=form.phone.data,
                idempotency_key=form.idempotency_key.data,
            )
            schedule_submission(db.session, placed.order)
        except services.AlreadyPlaced:
            db.session.rollback()
            placed = services.Placed(
                services.find_by_key(db.session, current_user, form.idempotency_key.data), True
            )
        except services.TaxProfileRequired as error:
            session[CHECKOUT] = {"address": form.address.data, "phone": form.phone.data}
            flash(refuse(error), "info")
            return redirect(url_for("catalog.tax_profile"))
        except DomainError as error:
            placed = None
            field = error.details.get("field")
            (getattr(form, field).errors if field in ("address", "phone") else form.form_errors).append(
                refuse(error)
            )
        if placed is not None:
            session.pop(CART, None)
            session.pop(CHECKOUT, None)
            if placed.replay:
                flash(_("This order was already placed: here it is."), "info")
            else:
                flash(_("Order placed: %(points)d points taken.", points=placed.order.points), "success")
            return redirect(url_for("catalog.order", order_id=placed.order.id))
    total = sum(p.points * q for p, q in lines)
    return render_template(
        "catalog/checkout.html",
        form=form,
        lines=lines,
        total=total,
        locale=_locale(),
        balance=balance_of(db.session, current_user),
    )


@bp.route("/tax-profile", methods=["GET", "POST"])
@roles_required(*PARTICIPANTS)
@commits
def tax_profile():
    form = TaxProfileForm()
    if form.validate_on_submit():
        try:
            save_tax_profile(db.session, current_user, form.inn.data, consent=form.consent.data)
        except DomainError as error:
            (form.inn if error.code == "bad_inn" else form.consent).errors.append(refuse(error))
        else:
            flash(_("Thank you: your INN and consent are saved."), "success")
            return redirect(url_for("catalog.checkout"))
    return render_template("catalog/tax_profile.html", form=form)


@bp.get("/orders")
@roles_required(*PARTICIPANTS)
def my_orders():
    return render_template(
        "catalog/orders.html",
        orders=services.orders_of(db.session, current_user),
        locale=_locale(),
        balance=balance_of(db.session, current_user),
    )


@bp.get("/orders/<int:order_id>")
@roles_required(*PARTICIPANTS)
def order(order_id: int):
    try:
        order = services.own_order(db.session, current_user, order_id)
    except DomainError:
        abort(404)
    return render_template("catalog/order.html", order=order, locale=_locale(), staff=False)
