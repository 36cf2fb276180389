"""The admin pages. Head office reads everything and changes nothing; regional
managers read the shops and people of their region; only admins write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from partner_club.accounts.access import can_see_outlet, can_see_user, roles_required
from partner_club.accounts.invitations import default_valid_days
from partner_club.accounts.models import Role, User, UserStatus
from partner_club.accounts.services import block_user, unblock_user
from partner_club.admin import services
from partner_club.admin.forms import (
    BlockForm,
    InvitationDaysForm,
    OutletForm,
    RegionForm,
    StaffForm,
    TerritoryForm,
    UnblockForm,
)
from partner_club.audit.sentences import sentences_for
from partner_club.confirm import confirmation
from partner_club.errors import DomainError
from partner_club.extensions import db
from partner_club.ledger.services import balance_of
from partner_club.nav import NavItem
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region, Territory
from partner_club.web import commits, refuse

bp = Blueprint("admin", __name__, url_prefix="/admin")

READERS = (Role.ADMIN, Role.HEAD_OFFICE)
LIST_READERS = (Role.ADMIN, Role.HEAD_OFFICE, Role.REGIONAL_MANAGER)

bp.nav = [
    NavItem("admin.people", _l("People"), frozenset(LIST_READERS), 70),
    NavItem("admin.shops", _l("Shops"), frozenset(LIST_READERS), 71),
    NavItem("admin.territories", _l("Regions and territories"), frozenset(READERS), 72),
    NavItem("admin.audit", _l("Audit log"), frozenset(READERS), 73),
]


@bp.before_request
def only_admins_write():
    """One gate for every admin form: read-only roles get 403 on any change."""
    if (
        request.method not in ("GET", "HEAD", "OPTIONS")
        and current_user.is_authenticated
        and current_user.role_enum is not Role.ADMIN
    ):
        abort(403)


def _can_write() -> bool:
    return current_user.role_enum is Role.ADMIN


def _page() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def _form_error(form, error: DomainError, fallback: str) -> None:
    field = getattr(form, error.details.get("field") or fallback, None) or getattr(form, fallback)
    field.errors = [*list(field.errors), refuse(error)]


def _regions() -> list[Region]:
    return list(db.session.scalars(select(Region).order_by(Region.country, Region.name_en)))


def _region_choices(blank: str | None = None) -> list[tuple[int, str]]:
    locale = str(get_locale())
    choices = [(r.id, f"{r.name(locale)} ({r.iso_code})") for r in _regions()]
    return ([(0, blank)] if blank else []) + choices


@bp.get("/")
@roles_required(*LIST_READERS)
def index():
    return redirect(url_for("admin.people"))


# --- regions and territories ------------------------------------------------------


@bp.get("/territories")
@roles_required(*READERS)
def territories():
    form = TerritoryForm()
    _territory_choices(form)
    rows = db.session.scalars(select(Territory).join(Region).order_by(Region.name_en, Territory.name)).all()
    days_form = InvitationDaysForm(valid_days=default_valid_days(db.session))
    return render_template(
        "admin/territories.html",
        form=form,
        territories=rows,
        regions=_regions(),
        region_form=RegionForm(),
        days_form=days_form,
        can_write=_can_write(),
    )


@bp.post("/settings/invitation-days")
@roles_required(Role.ADMIN)
@commits
def invitation_days():
    form = InvitationDaysForm()
    if form.validate_on_submit():
        services.set_invitation_valid_days(db.session, form.valid_days.data, actor=current_user)
        flash(_("Saved: new invitations are valid for %(n)d days.", n=form.valid_days.data), "success")
    else:
        flash(_("An invitation is valid for 1 to 365 days."), "error")
    return redirect(url_for("admin.territories"))


def _territory_choices(form: TerritoryForm) -> None:
    form.region_id.choices = _region_choices()
    form.rep_id.choices = [(0, _("— nobody —"))] + [
        (r.id, f"{r.display_name} ({r.login})") for r in services.reps(db.session)
    ]


@bp.post("/territories")
@bp.post("/territories/<int:territory_id>")
@roles_required(Role.ADMIN)
@commits(back="admin.territories")
def save_territory(territory_id: int | None = None):
    territory = db.get_or_404(Territory, territory_id) if territory_id else None
    form = TerritoryForm()
    _territory_choices(form)
    if form.validate_on_submit():
        region = db.session.get(Region, form.region_id.data)
        rep = db.session.get(User, form.rep_id.data) if form.rep_id.data else None
        services.save_territory(
            db.session, territory, region=region, name=form.name.data, rep=rep, actor=current_user
        )
        flash(_("Territory saved."), "success")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("admin.territories"))


@bp.post("/regions/<int:region_id>")
@roles_required(Role.ADMIN)
@commits(back="admin.territories")
def rename_region(region_id: int):
    region = db.get_or_404(Region, region_id)
    form = RegionForm()
    if form.validate_on_submit():
        services.rename_region(
            db.session, region, name_en=form.name_en.data, name_ru=form.name_ru.data, actor=current_user
        )
        flash(_("Region renamed."), "success")
    else:
        flash(_("Give the region's name in both languages."), "error")
    return redirect(url_for("admin.territories"))


# --- people -------------------------------------------------------------------------------


@bp.get("/people")
@roles_required(*LIST_READERS)
def people():
    q, role, status = request.args.get("q", ""), request.args.get("role", ""), request.args.get("status", "")
    page = services.search_people(db.session, current_user, q=q, role=role, status=status, page=_page())
    return render_template(
        "admin/people.html",
        page=page,
        q=q,
        role=role,
        status=status,
        roles=list(Role),
        statuses=list(UserStatus),
        can_write=_can_write(),
    )


@bp.route("/people/new", methods=["GET", "POST"])
@roles_required(*READERS)
@commits
def new_person():
    form = StaffForm()
    form.region_id.choices = _region_choices(blank=_("— none —"))
    if form.validate_on_submit():
        region = db.session.get(Region, form.region_id.data) if form.region_id.data else None
        try:
            user = services.create_staff(
                db.session,
                role=form.role.data,
                login=form.login.data,
                password=form.password.data,
                full_name=form.full_name.data,
                region=region,
                actor=current_user,
            )
        except DomainError as error:
            _form_error(form, error, "login")
        else:
            flash(_("Account created: %(login)s", login=user.login), "success")
            return redirect(url_for("admin.person", user_id=user.id))
    return render_template("admin/person_new.html", form=form, can_write=_can_write())


@bp.get("/people/<int:user_id>")
@roles_required(*LIST_READERS)
def person(user_id: int):
    user = db.get_or_404(User, user_id)
    if not can_see_user(current_user, user):
        abort(403)
    history = services.audit_entries(db.session, object_type="User", object_id=str(user.id)).items
    sentences = sentences_for(db.session, history)
    return render_template(
        "admin/person.html",
        person=user,
        history=history,
        sentences=sentences,
        block_form=BlockForm(),
        unblock_form=UnblockForm(),
        can_write=_can_write(),
    )


@bp.post("/people/<int:user_id>/block/confirm")
@roles_required(Role.ADMIN)
def confirm_block(user_id: int):
    user = db.get_or_404(User, user_id)
    form = BlockForm()
    if not form.validate_on_submit():
        flash(_("Give a reason: the person will see it when signing in."), "error")
        return redirect(url_for("admin.person", user_id=user.id))
    balance = balance_of(db.session, user)
    return confirmation(
        title=_("Block %(name)s?", name=user.display_name),
        consequences=[
            _(
                "%(name)s will not be able to sign in, register codes or order prizes.",
                name=user.display_name,
            ),
            ngettext(
                "Their %(count)s point stays on the account.",
                "Their %(count)s points stay on the account.",
                balance.active + balance.pending,
                count=format_decimal(balance.active + balance.pending),
            ),
            _("Reason they will see: %(reason)s", reason=form.reason.data),
        ],
        action=url_for("admin.block", user_id=user.id, action="block"),
        button=_("Block"),
        back=url_for("admin.person", user_id=user.id),
        undo=_("You can unblock them later on this person's page."),
    )


@bp.post("/people/<int:user_id>/<any(block, unblock):action>")
@roles_required(Role.ADMIN)
@commits
def block(user_id: int, action: str):
    user = db.get_or_404(User, user_id)
    form = BlockForm() if action == "block" else UnblockForm()
    if not form.validate_on_submit():
        flash(_("Give a reason: the person will see it when signing in."), "error")
        return redirect(url_for("admin.person", user_id=user.id))
    try:
        if action == "block":
            block_user(db.session, user, reason=form.reason.data, actor=current_user)
        else:
            unblock_user(db.session, user, actor=current_user)
    except DomainError as error:
        flash(refuse(error), "error")
    else:
        flash(
            _("Blocked. To undo, press Unblock below.") if action == "block" else _("Unblocked."), "success"
        )
    return redirect(url_for("admin.person", user_id=user.id))


# --- shops ----------------------------------------------------------------------------------


@bp.get("/shops")
@roles_required(*LIST_READERS)
def shops():
    q = request.args.get("q", "")
    page = services.search_outlets(db.session, current_user, q=q, page=_page())
    return render_template("admin/shops.html", page=page, q=q, can_write=_can_write())


@bp.route("/shops/<int:outlet_id>", methods=["GET", "POST"])
@roles_required(*LIST_READERS)
@commits
def shop(outlet_id: int):
    outlet = db.get_or_404(Outlet, outlet_id)
    if not can_see_outlet(current_user, outlet):
        abort(403)
    form = OutletForm(obj=outlet)
    form.region_id.choices = _region_choices()
    locale = str(get_locale())
    form.territory_id.choices = [(0, _("— none —"))] + [
        (t.id, f"{t.name} · {t.region.name(locale)}")
        for t in db.session.scalars(select(Territory).order_by(Territory.name))
    ]
    if request.method == "GET":
        form.territory_id.data = outlet.territory_id or 0
    if form.validate_on_submit():
        changes = services.OutletChanges(
            name=form.name.data or "",
            legal_name=form.legal_name.data or "",
            tax_number=form.tax_number.data or "",
            address=form.address.data or "",
            kind=form.kind.data,
            region_id=form.region_id.data,
            territory_id=form.territory_id.data or None,
            lat=form.lat.data,
            lon=form.lon.data,
            active=bool(form.active.data),
        )
        try:
            services.update_outlet(db.session, outlet, changes, actor=current_user)
        except DomainError as error:
            _form_error(form, error, "name")
        else:
            flash(_("Shop saved."), "success")
            return redirect(url_for("admin.shop", outlet_id=outlet.id))
    people = db.session.scalars(select(User).where(User.outlet_id == outlet.id).order_by(User.role)).all()
    return render_template("admin/shop.html", outlet=outlet, form=form, people=people, can_write=_can_write())


# --- the audit log ------------------------------------------------------------------------------


def _day(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


@bp.get("/audit")
@roles_required(*READERS)
def audit():
    args = {
        key: request.args.get(key, "")
        for key in ("action", "actor", "object_type", "object_id", "since", "until")
    }
    until = _day(args["until"])
    page = services.audit_entries(
        db.session,
        action=args["action"],
        actor=args["actor"],
        object_type=args["object_type"],
        object_id=args["object_id"],
        since=_day(args["since"]),
        until=until + timedelta(days=1) if until else None,
        page=_page(),
    )
    return render_template(
        "admin/audit.html",
        page=page,
        sentences=sentences_for(db.session, page.items),
        args=args,
        actions=services.audit_actions(db.session),
        can_write=_can_write(),
    )
