"""Signing in and out, invitations, joining the club, the owner's sellers."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from partner_club.accounts import invitations as inv
from partner_club.accounts import signup
from partner_club.accounts.access import roles_required
from partner_club.accounts.forms import (
    MODE_SHOP,
    ActionForm,
    IssueCardsForm,
    JoinCodeForm,
    LoginForm,
    PersonForm,
    SellerCodeForm,
    ShopSignupForm,
)
from partner_club.accounts.models import Invitation, InvitationKind, Role, User
from partner_club.accounts.signin_limits import sign_in
from partner_club.accounts.web_sessions import (
    PUSH_ENDPOINT_KEY,
    close_browser_session,
    open_browser_session,
    signin_store,
)
from partner_club.confirm import confirmation
from partner_club.errors import DomainError
from partner_club.extensions import db, limiter
from partner_club.links import is_local_path
from partner_club.nav import NavItem
from partner_club.notifications import push
from partner_club.regions.models import Territory
from partner_club.web import commits, discard

bp = Blueprint("accounts", __name__)
bp.nav = [
    NavItem(
        "accounts.invitations",
        _l("Invitations"),
        frozenset({Role.REP, Role.REGIONAL_MANAGER, Role.ADMIN, Role.HEAD_OFFICE}),
        20,
    ),
    NavItem("accounts.sellers", _l("My sellers"), frozenset({Role.OWNER}), 30),
]


def _join_limit() -> str:
    return current_app.config["JOIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect would help phishing."""
    if is_local_path(target):
        return target
    return url_for("site.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@commits
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    refusal = None
    status = 200
    if form.validate_on_submit():
        try:
            user = sign_in(
                db.session, signin_store(), form.login.data, form.password.data, ip=request.remote_addr
            )
        except DomainError as error:
            if error.code == "bad_credentials":
                # Deliberate: a refused sign-in keeps its failure count (the throttle's memory); the
                # service wrote nothing else. `@commits` then finds nothing more to commit.
                db.session.commit()
            else:
                discard()
            if error.code == "blocked":
                refusal = error  # shown above the form: why, and whom to contact
            else:
                form.password.errors.append(error.message)
                status = error.status if error.code == "too_many_attempts" else 200
        else:
            open_browser_session(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form, refusal=refusal), status


@bp.post("/logout")
@login_required
@commits
def logout():
    """Ends the session and what this browser keeps of the person: their push subscription
    (a shared phone must not get their messages) and, by `Clear-Site-Data`, the HTTP cache.
    The page's sign-out script (static/js/signout.js) asks the service worker to drop the
    kept pages and the browser to drop the push subscription; the outbox of unsent codes
    stays, keyed by person, and is only sent while that person is signed in."""
    endpoint = cookie.pop(PUSH_ENDPOINT_KEY, None)
    if isinstance(endpoint, str):
        push.unsubscribe(db.session, current_user.id, endpoint)
    close_browser_session(current_user)
    flash(_("You have signed out."), "info")
    response = redirect(url_for("accounts.login"))
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


# --- the rep's invitation cards -----------------------------------------


def _territory_choices() -> list[tuple[int, str]]:
    locale = str(get_locale())
    return [
        (t.id, f"{t.name} · {t.region.name(locale)}")
        for t in inv.territories_for_inviter(db.session, current_user)
    ]


@bp.route("/invitations", methods=["GET", "POST"])
@roles_required(Role.REP, Role.REGIONAL_MANAGER, Role.ADMIN, Role.HEAD_OFFICE)
@commits
def invitations():
    form = IssueCardsForm()
    form.territory_id.choices = _territory_choices()
    if request.method == "GET":
        form.valid_days.data = inv.default_valid_days(db.session)
    can_issue = bool(form.territory_id.choices)
    if request.method == "POST" and not can_issue:
        abort(403)
    if form.validate_on_submit():
        territory = db.session.get(Territory, form.territory_id.data)
        try:
            cards = inv.issue_outlet_invitations(
                db.session,
                current_user,
                territory,
                count=form.count.data,
                valid_days=form.valid_days.data,
                label=form.label.data or "",
            )
        except DomainError as error:
            discard()
            _form_error(form, error, "count")
        else:
            return redirect(url_for("accounts.invitation_cards", batch=cards[0].batch))
    rows = inv.invitations_for(db.session, current_user)
    return render_template(
        "accounts/invitations.html",
        form=form,
        rows=rows,
        can_issue=can_issue,
        revoke_form=ActionForm(),
        format_code=inv.format_code,
    )


@bp.get("/invitations/cards/<batch>")
@roles_required(Role.REP, Role.REGIONAL_MANAGER, Role.ADMIN, Role.HEAD_OFFICE)
def invitation_cards(batch: str):
    try:
        cards = inv.batch_cards(db.session, current_user, batch)
    except DomainError as error:
        abort(error.status)
    public = current_app.config["PUBLIC_URL"]
    items = [(card, f"{public}/join/{card.code}", inv.qr_svg(f"{public}/join/{card.code}")) for card in cards]
    return render_template("accounts/cards.html", items=items, format_code=inv.format_code)


@bp.post("/invitations/<int:invitation_id>/revoke")
@roles_required(Role.REP, Role.REGIONAL_MANAGER, Role.ADMIN, Role.OWNER)
@commits
def revoke_invitation(invitation_id: int):
    invitation = db.get_or_404(Invitation, invitation_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        inv.revoke_invitation(db.session, invitation, actor=current_user)
    except DomainError as error:
        discard()
        abort(error.status)
    flash(_("The invitation is cancelled."), "success")
    if invitation.kind == InvitationKind.SELLER.value:
        return redirect(url_for("accounts.sellers"))
    return redirect(url_for("accounts.invitations"))


# --- joining ---------------------------------------------------------------


def _form_error(form, error: DomainError, fallback: str) -> None:
    """Puts a service's refusal under the field it is about."""
    name = error.details.get("field") or fallback
    field = getattr(form, name, None) or getattr(form, fallback)
    field.errors = [*list(field.errors), error.message]


@bp.route("/join", methods=["GET", "POST"])
@limiter.limit(_join_limit, methods=["POST"])
def join():
    form = JoinCodeForm(request.form if request.method == "POST" else MultiDict(request.args))
    if (request.method == "POST" or form.code.data) and form.validate():
        try:
            invitation = inv.find_invitation(db.session, form.code.data)
        except DomainError as error:
            _form_error(form, error, "code")
        else:
            return redirect(url_for("accounts.join_with_code", code=invitation.code))
    return render_template("accounts/join_code.html", form=form)


@bp.route("/join/<code>", methods=["GET", "POST"])
@limiter.limit(_join_limit)
@commits
def join_with_code(code: str):
    try:
        invitation = inv.find_invitation(db.session, code)
    except DomainError as error:
        form = JoinCodeForm(MultiDict({"code": code}))
        form.validate()
        form.code.errors = [*list(form.code.errors), error.message]
        return render_template("accounts/join_code.html", form=form), 404
    if invitation.code != code:
        return redirect(url_for("accounts.join_with_code", code=invitation.code))
    if invitation.kind == InvitationKind.SELLER.value:
        return _join_as_seller(invitation)
    return _join_with_card(invitation)


def _person(form: PersonForm) -> signup.PersonDetails:
    return signup.PersonDetails(
        full_name=form.full_name.data or "",
        login=form.login.data or "",
        password=form.password.data or "",
        password_again=form.password_again.data or "",
    )


def _welcome(user: User, message: str):
    user.locale = str(get_locale())
    open_browser_session(user)
    flash(message, "success")
    return redirect(url_for("site.home"))


def _join_with_card(invitation: Invitation):
    if current_user.is_authenticated:
        if invitation.kind == InvitationKind.REFERRAL.value:
            own = invitation.created_by_id == current_user.id
            flash(
                _("This is your own referral link: give it to the owner of a new shop.")
                if own
                else _("Your shop is already in the club: a referral link is for new shops."),
                "info",
            )
        else:
            flash(_("You are already in the club. Sign out to sign someone else up with this card."), "info")
        return redirect(url_for("site.home"))
    form = ShopSignupForm()
    regions = signup.regions_for_choice(db.session)
    locale = str(get_locale())
    form.region_id.choices = [(0, _("— choose —"))] + [(r.id, r.name(locale)) for r in regions]
    if request.method == "GET" and invitation.territory is not None:
        form.region_id.data = invitation.territory.region_id
    if form.validate_on_submit():
        person = _person(form)
        try:
            if form.mode.data == MODE_SHOP:
                shop = signup.ShopDetails(
                    trade_name=form.trade_name.data or "",
                    legal_name=form.legal_name.data or "",
                    tax_number=form.tax_number.data or "",
                    address=form.address.data or "",
                    region_id=form.region_id.data or 0,
                    lat=form.lat.data,
                    lon=form.lon.data,
                )
                user = signup.sign_up_shop(db.session, invitation.code, shop, person)
            else:
                user = signup.sign_up_individual(db.session, invitation.code, person)
            db.session.flush()
        except DomainError as error:
            discard()
            _form_error(form, error, "login")
        except IntegrityError:  # the same login signed up a moment ago, in another request
            discard()
            form.login.errors = [*list(form.login.errors), _("This login is already taken. Sign in instead.")]
        else:
            return _welcome(user, _("Welcome to the club!"))
    return render_template(
        "accounts/join.html", form=form, invitation=invitation, format_code=inv.format_code
    )


def _join_as_seller(invitation: Invitation):
    move = current_user.is_authenticated
    if move and current_user.role_enum is not Role.SELLER:
        flash(_("This code is for sellers. You are already in the club."), "info")
        return redirect(url_for("site.home"))
    form = ActionForm() if move else PersonForm()
    if form.validate_on_submit():
        try:
            if move:
                user = signup.move_to_shop(db.session, current_user, invitation.code)
            else:
                user = signup.sign_up_seller(db.session, invitation.code, _person(form))
            db.session.flush()
        except IntegrityError:  # the same login signed up a moment ago, in another request
            discard()
            flash(_("This login is already taken. Sign in instead."), "error")
            return redirect(url_for("accounts.login"))
        except DomainError as error:
            discard()
            if move:
                flash(error.message, "error")
                return redirect(url_for("site.home"))
            _form_error(form, error, "login")
        else:
            return _welcome(user, _("Done. The shop owner will approve you soon."))
    return render_template("accounts/join_seller.html", form=form, invitation=invitation, move=move)


# --- the owner's sellers -------------------------------------------------------


@bp.get("/shop/sellers")
@roles_required(Role.OWNER)
def sellers():
    outlet = current_user.outlet
    invitation = inv.active_seller_invitation(db.session, outlet)
    code_form = SellerCodeForm(valid_days=inv.default_valid_days(db.session))
    link = qr = None
    if invitation is not None:
        link = f"{current_app.config['PUBLIC_URL']}/join/{invitation.code}"
        qr = inv.qr_svg(link)
    return render_template(
        "accounts/sellers.html",
        outlet=outlet,
        invitation=invitation,
        link=link,
        qr=qr,
        people=signup.sellers_of(db.session, outlet),
        code_form=code_form,
        action_form=ActionForm(),
        format_code=inv.format_code,
    )


@bp.post("/shop/sellers/code")
@roles_required(Role.OWNER)
@commits
def seller_code():
    form = SellerCodeForm()
    if not form.validate_on_submit():
        flash(_("An invitation is valid for 1 to 365 days."), "error")
        return redirect(url_for("accounts.sellers"))
    inv.issue_seller_invitation(db.session, current_user, valid_days=form.valid_days.data)
    flash(_("A new join code is ready. The old one no longer works."), "success")
    return redirect(url_for("accounts.sellers"))


@bp.post("/shop/sellers/<int:user_id>/remove/confirm")
@roles_required(Role.OWNER)
def confirm_remove_seller(user_id: int):
    seller = db.session.scalar(
        select(User).where(User.id == user_id, User.outlet_id == current_user.outlet_id)
    )
    if seller is None:
        abort(404)
    return confirmation(
        title=_("Remove %(name)s from the shop?", name=seller.display_name),
        consequences=[
            _("%(name)s will no longer register codes for your shop.", name=seller.display_name),
            _("The points they earned stay theirs."),
        ],
        action=url_for("accounts.seller_action", user_id=seller.id, action="remove"),
        button=_("Remove from the shop"),
        back=url_for("accounts.sellers"),
        undo=_("To take them back, give them the shop's join code again."),
    )


@bp.post("/shop/sellers/<int:user_id>/<any(approve, remove):action>")
@roles_required(Role.OWNER)
@commits
def seller_action(user_id: int, action: str):
    seller = db.session.scalar(select(User).where(User.id == user_id))
    if seller is None or not ActionForm().validate_on_submit():
        abort(404 if seller is None else 400)
    try:
        if action == "approve":
            signup.approve_seller(db.session, current_user, seller)
            message = _("%(name)s can now register codes.", name=seller.display_name)
        else:
            signup.remove_seller(db.session, current_user, seller)
            message = _("%(name)s is no longer in your shop.", name=seller.display_name)
    except DomainError as error:
        discard()
        if error.status == 403:
            abort(403)
        flash(error.message, "error")
    else:
        flash(message, "success")
    return redirect(url_for("accounts.sellers"))
