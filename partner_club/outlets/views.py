"""The admin's list of shop kinds: add one, rename one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from partner_club.accounts.access import roles_required
from partner_club.accounts.models import Role
from partner_club.errors import DomainError, Invalid
from partner_club.extensions import db
from partner_club.nav import NavItem
from partner_club.outlets import kinds
from partner_club.web import commits, refuse

bp = Blueprint("outlet_kinds", __name__, url_prefix="/admin/shop-kinds")
bp.nav = [NavItem("outlet_kinds.index", _l("Kinds of shop"), frozenset((Role.ADMIN, Role.HEAD_OFFICE)), 75)]


@bp.get("/")
@roles_required(Role.ADMIN, Role.HEAD_OFFICE)
def index():
    return render_template(
        "admin/shop_kinds.html",
        kinds=kinds.outlet_kinds(db.session),
        can_write=current_user.role_enum is Role.ADMIN,
    )


@bp.post("/")
@roles_required(Role.ADMIN)
@commits
def save():
    key = request.form.get("key", "")
    try:
        if key:
            kinds.rename_kind(
                db.session,
                key,
                name_en=request.form.get("name_en", ""),
                name_ru=request.form.get("name_ru", ""),
                actor=current_user,
            )
        elif not kinds.add_kinds(db.session, [request.form.get("name", "")], actor=current_user):
            raise Invalid(_("This kind is on the list already."), code="kind_exists")
    except DomainError as error:
        flash(refuse(error), "error")
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("outlet_kinds.index"))
