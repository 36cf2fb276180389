"""Points pages: the participant's balance and history, the owner's shop,
the rep's territory, the liability, and the admin's settings and corrections."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select

from partner_club.accounts.access import EVERYTHING, PARTICIPANTS, roles_required
from partner_club.accounts.models import Role, User
from partner_club.database import utcnow
from partner_club.errors import DomainError
from partner_club.extensions import db
from partner_club.ledger import queries
from partner_club.ledger import services as ledger
from partner_club.ledger.forms import (
    AdjustForm,
    ExpiryPolicyForm,
    PointValueForm,
    RegistrationRuleForm,
    ReverseForm,
)
from partner_club.ledger.models import Account, LedgerEntry
from partner_club.ledger.policy import (
    expiry_policy,
    point_value,
    registration_rule,
    validate_expiry_policy,
    validate_point_value,
    validate_registration_rule,
)
from partner_club.nav import NavItem
from partner_club.outlets.models import Outlet
from partner_club.web import commits, refuse

bp = Blueprint("ledger", __name__, url_prefix="/points")
bp.nav = [
    NavItem("ledger.balance", _l("My points"), PARTICIPANTS, 10),
    NavItem("ledger.shop", _l("Shop points"), frozenset({Role.OWNER}), 31),
    NavItem(
        "ledger.territory", _l("Points in my territory"), frozenset({Role.REP, Role.REGIONAL_MANAGER}), 40
    ),
    NavItem("ledger.liability", _l("Points liability"), frozenset({Role.ADMIN, Role.HEAD_OFFICE}), 60),
    NavItem("ledger.accounts", _l("Points accounts"), frozenset({Role.ADMIN}), 61),
    NavItem("ledger.settings", _l("Points settings"), frozenset({Role.ADMIN}), 62),
]
ADMIN = frozenset({Role.ADMIN})


def _own_account() -> Account | None:
    return db.session.scalar(select(Account).where(Account.user_id == current_user.id))


def _page_arg() -> int:
    return request.args.get("page", 1, type=int) or 1


# --- the participant --------------------------------------------------------


@bp.get("/")
@roles_required(*PARTICIPANTS)
def balance():
    account = _own_account()
    recent = queries.history(db.session, account, 1, per_page=5)
    return render_template(
        "ledger/balance.html",
        summary=queries.summary(db.session, account, utcnow()),
        recent=recent,
        expiring=queries.expiring(db.session, account, utcnow()),
    )


@bp.get("/history")
@roles_required(*PARTICIPANTS)
def history():
    page = queries.history(db.session, _own_account(), _page_arg())
    return render_template("ledger/history.html", page=page, endpoint="ledger.history", args={})


# --- the owner: the shop's points and rule ----------------------------------


@bp.get("/shop")
@roles_required(Role.OWNER)
def shop():
    outlet = current_user.outlet
    account = db.session.scalar(select(Account).where(Account.outlet_id == outlet.id))
    rule = registration_rule(db.session, outlet.id)
    form = RegistrationRuleForm(data={"mode": rule.mode, "person_percent": rule.person_percent})
    return _shop_page(outlet, account, form)


def _shop_page(outlet: Outlet, account: Account | None, form: RegistrationRuleForm):
    return render_template(
        "ledger/shop.html",
        outlet=outlet,
        form=form,
        summary=queries.summary(db.session, account, utcnow()),
        people=queries.outlet_people_points(db.session, outlet),
        page=queries.history(db.session, account, _page_arg()),
        endpoint="ledger.shop",
        args={},
    )


@bp.post("/shop/rule")
@roles_required(Role.OWNER)
@commits
def shop_rule():
    outlet = current_user.outlet
    form = RegistrationRuleForm()
    if form.validate_on_submit():
        try:
            rule = validate_registration_rule(form.mode.data, form.person_percent.data)
            ledger.set_registration_rule(db.session, rule, outlet=outlet, actor=current_user)
        except DomainError as error:
            form.person_percent.errors = [refuse(error)]
        else:
            flash(_("Saved: new registrations follow this rule."), "success")
            return redirect(url_for("ledger.shop"))
    account = db.session.scalar(select(Account).where(Account.outlet_id == outlet.id))
    return _shop_page(outlet, account, form), 422


# --- staff: territory totals and the liability ------------------------------


@bp.get("/territory")
@roles_required(Role.REP, Role.REGIONAL_MANAGER)
def territory():
    rows = queries.outlet_totals(db.session, current_user)
    return render_template(
        "ledger/territory.html",
        rows=rows,
        active=sum(r.active for r in rows),
        pending=sum(r.pending for r in rows),
    )


@bp.get("/liability")
@roles_required(*EVERYTHING, Role.REGIONAL_MANAGER)
def liability():
    region_id = current_user.region_id if current_user.role == Role.REGIONAL_MANAGER.value else None
    if current_user.role == Role.REGIONAL_MANAGER.value and region_id is None:
        abort(403)
    report = queries.liability(db.session, utcnow(), region_id=region_id, locale=str(get_locale()))
    return render_template(
        "ledger/liability.html",
        report=report,
        money=lambda points: format_decimal(report.money(points), format="#,##0.00"),
        per_point=format_decimal(report.value_per_point, format="#,##0.00##"),
    )


# --- the admin: settings -----------------------------------------------------


@bp.get("/admin/settings")
@roles_required(*ADMIN)
def settings():
    return _settings_page()


def _settings_page(expiry_form=None, value_form=None, rule_form=None, status: int = 200):
    policy, value, rule = expiry_policy(db.session), point_value(db.session), registration_rule(db.session)
    expiry_form = expiry_form or ExpiryPolicyForm(data={"mode": policy.mode, "months": policy.months})
    value_form = value_form or PointValueForm(data={"amount": str(value.amount), "currency": value.currency})
    rule_form = rule_form or RegistrationRuleForm(
        data={"mode": rule.mode, "person_percent": rule.person_percent}
    )
    return render_template(
        "ledger/settings.html", expiry_form=expiry_form, value_form=value_form, rule_form=rule_form
    ), status


@bp.post("/admin/settings/expiry")
@roles_required(*ADMIN)
@commits
def settings_expiry():
    form = ExpiryPolicyForm()
    if form.validate_on_submit():
        try:
            count = ledger.set_expiry_policy(
                db.session, validate_expiry_policy(form.mode.data, form.months.data), actor=current_user
            )
        except DomainError as error:
            form.months.errors = [refuse(error)]
        else:
            flash(
                ngettext(
                    "Expiry policy saved; %(num)d batch of points was re-dated.",
                    "Expiry policy saved; %(num)d batches of points were re-dated.",
                    count,
                ),
                "success",
            )
            return redirect(url_for("ledger.settings"))
    return _settings_page(expiry_form=form, status=422)


@bp.post("/admin/settings/point-value")
@roles_required(*ADMIN)
@commits
def settings_point_value():
    form = PointValueForm()
    if form.validate_on_submit():
        try:
            ledger.set_point_value(
                db.session, validate_point_value(form.amount.data, form.currency.data), actor=current_user
            )
        except DomainError as error:
            form.amount.errors = [refuse(error)]
        else:
            flash(_("The value of a point is saved."), "success")
            return redirect(url_for("ledger.settings"))
    return _settings_page(value_form=form, status=422)


@bp.post("/admin/settings/rule")
@roles_required(*ADMIN)
@commits
def settings_rule():
    form = RegistrationRuleForm()
    if form.validate_on_submit():
        try:
            rule = validate_registration_rule(form.mode.data, form.person_percent.data)
            ledger.set_registration_rule(db.session, rule, outlet=None, actor=current_user)
        except DomainError as error:
            form.person_percent.errors = [refuse(error)]
        else:
            flash(_("The default rule is saved. Shops whose owner chose a rule keep theirs."), "success")
            return redirect(url_for("ledger.settings"))
    return _settings_page(rule_form=form, status=422)


# --- the admin: accounts, adjustments, reversals -----------------------------


@bp.get("/admin/accounts")
@roles_required(*ADMIN)
def accounts():
    q = request.args.get("q", "").strip()
    people, shops = [], []
    if q:
        like = f"%{q}%"
        people = db.session.scalars(
            select(User)
            .where(or_(User.login.ilike(like), User.full_name.ilike(like)))
            .order_by(User.login)
            .limit(30)
        ).all()
        shops = db.session.scalars(
            select(Outlet)
            .where(or_(Outlet.name.ilike(like), Outlet.external_id.ilike(like)))
            .order_by(Outlet.name)
            .limit(30)
        ).all()
    return render_template("ledger/accounts.html", q=q, people=people, shops=shops)


def _holder(kind: str, holder_id: int) -> tuple[User | Outlet, Account | None]:
    if kind == "person":
        holder = db.session.get(User, holder_id)
        column = Account.user_id
    elif kind == "shop":
        holder = db.session.get(Outlet, holder_id)
        column = Account.outlet_id
    else:
        abort(404)
    if holder is None:
        abort(404)
    return holder, db.session.scalar(select(Account).where(column == holder_id))


@bp.get("/admin/<any(person, shop):kind>/<int:holder_id>")
@roles_required(*ADMIN)
def account(kind: str, holder_id: int):
    return _account_page(kind, holder_id, AdjustForm())


def _account_page(kind: str, holder_id: int, form: AdjustForm, status: int = 200):
    holder, acc = _holder(kind, holder_id)
    return render_template(
        "ledger/account.html",
        kind=kind,
        holder=holder,
        form=form,
        reverse_form=ReverseForm(),
        summary=queries.summary(db.session, acc, utcnow()),
        page=queries.history(db.session, acc, _page_arg()),
        endpoint="ledger.account",
        args={"kind": kind, "holder_id": holder_id},
    ), status


@bp.post("/admin/<any(person, shop):kind>/<int:holder_id>/adjust")
@roles_required(*ADMIN)
@commits
def adjust(kind: str, holder_id: int):
    form = AdjustForm()
    if form.validate_on_submit():
        holder, _acc = _holder(kind, holder_id)
        try:
            target = (
                ledger.account_for_user(db.session, holder)
                if kind == "person"
                else ledger.account_for_outlet(db.session, holder)
            )
            ledger.adjust(db.session, target, form.amount.data, actor=current_user, reason=form.reason.data)
        except DomainError as error:
            form.amount.errors = [refuse(error)]
        else:
            flash(_("Adjustment saved."), "success")
            return redirect(url_for("ledger.account", kind=kind, holder_id=holder_id))
    return _account_page(kind, holder_id, form, 422)


@bp.post("/admin/entries/<int:entry_id>/reverse")
@roles_required(*ADMIN)
@commits
def reverse(entry_id: int):
    entry = db.session.get(LedgerEntry, entry_id) or abort(404)
    acc = entry.account
    kind, holder_id = ("person", acc.user_id) if acc.user_id else ("shop", acc.outlet_id)
    form = ReverseForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for the reversal."), "error")
    else:
        try:
            ledger.reverse(db.session, entry, actor=current_user, reason=form.reason.data)
        except DomainError as error:
            flash(refuse(error), "error")
        else:
            flash(_("The entry is reversed."), "success")
    return redirect(url_for("ledger.account", kind=kind, holder_id=holder_id))
