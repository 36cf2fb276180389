"""The person's profile page, and the one-click unsubscribe link from mailings.

A blueprint of its own, like the security page: the profile has several
small forms (details, e-mail, phone, their codes, channels), each posting
to its own address and coming back to the page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from partner_club.accounts import profile, profile_channels
from partner_club.accounts.forms import ActionForm
from partner_club.accounts.models import Role
from partner_club.accounts.profile_forms import CodeForm, DetailsForm, EmailForm, PhoneForm
from partner_club.accounts.profile_models import ContactField
from partner_club.accounts.web_sessions import signin_store
from partner_club.errors import DomainError
from partner_club.extensions import csrf, db, limiter
from partner_club.nav import NavItem
from partner_club.web import commits, discard, refuse

bp = Blueprint("profile", __name__)
bp.nav = [NavItem("profile.profile", _l("Profile"), frozenset(Role), 88, icon="user")]

CONTACT_FORMS = {ContactField.EMAIL: EmailForm, ContactField.PHONE: PhoneForm}


def _code_limit() -> str:
    return current_app.config.get("PROFILE_CODE_RATE_LIMIT", "5 per minute;20 per hour")


def _field(name: str) -> ContactField:
    try:
        return ContactField(name)
    except ValueError:
        abort(404)


def _page(status: int = 200, **forms: Any):
    user = current_user
    details = forms.pop("details", None) or DetailsForm(
        formdata=None,
        data={"full_name": user.full_name, "locale": user.locale or "", "time_zone": user.time_zone or ""},
    )
    contact = {f: forms.pop(f.value, None) or CONTACT_FORMS[f](formdata=None) for f in ContactField}
    for f, form in contact.items():  # two forms on one page: ids of their own
        form.password.id = form.password.label.field_id = f"{f.value}-password"
    codes = {f: forms.pop(f"{f.value}_code", None) or CodeForm(formdata=None) for f in ContactField}
    pending = {f: profile.pending_change(db.session, user, f) for f in ContactField}
    return render_template(
        "accounts/profile.html",
        details=details,
        contact=contact,
        codes=codes,
        pending=pending,
        fields=ContactField,
        channels=profile_channels.channel_table(db.session, user),
        action_form=ActionForm(),
    ), status


@bp.route("/account/profile", methods=["GET", "POST"], endpoint="profile")
@login_required
@commits
def profile_page():
    form = DetailsForm()
    if request.method == "POST" and form.validate_on_submit():
        change = profile.ProfileChange(
            form.full_name.data, form.locale.data or None, form.time_zone.data or None
        )
        try:
            profile.update_profile(db.session, current_user, change)
        except DomainError as error:
            getattr(form, error.details.get("field") or "full_name").errors.append(refuse(error))
            return _page(422, details=form)
        if change.locale:
            session["lang"] = change.locale  # the chosen language at once, over the header's switch
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("profile.profile"))
    if request.method == "POST":
        return _page(422, details=form)
    return _page()


@bp.post("/account/profile/<name>")
@limiter.limit(_code_limit)
@login_required
@commits
def request_code(name: str):
    field = _field(name)
    form = CONTACT_FORMS[field]()
    if not form.validate_on_submit():
        return _page(422, **{field.value: form})
    try:
        profile.request_contact_change(
            db.session,
            current_user,
            field,
            form.value.data,
            password=form.password.data,
            store=signin_store(),
            ip=request.remote_addr,
        )
    except DomainError as error:
        if error.code == "password_wrong":
            db.session.commit()  # deliberate: the wrong password stays counted although refused
            form.password.errors = [*form.password.errors, error.message]
        elif error.details.get("field") == "password":
            form.password.errors = [*form.password.errors, refuse(error)]
        else:
            form.value.errors = [*form.value.errors, refuse(error)]
        return _page(error.status, **{field.value: form})
    flash(_("We sent a code to the new address. Type it below."), "info")
    return redirect(url_for("profile.profile", _anchor=field.value))


@bp.post("/account/profile/<name>/confirm")
@login_required
@commits
def confirm_code(name: str):
    field = _field(name)
    form = CodeForm()
    if not form.validate_on_submit():
        return _page(422, **{f"{field.value}_code": form})
    try:
        profile.confirm_contact_change(db.session, current_user, field, form.code.data)
    except DomainError as error:
        if error.code in ("wrong_code", "code_attempts"):
            db.session.commit()  # deliberate: the wrong try stays counted although the change is refused
        else:
            discard()
        form.code.errors = [*form.code.errors, error.message]
        return _page(error.status, **{f"{field.value}_code": form})
    flash(
        _("Confirmed: your e-mail is changed.")
        if field is ContactField.EMAIL
        else _("Confirmed: your phone is changed."),
        "success",
    )
    return redirect(url_for("profile.profile"))


@bp.post("/account/profile/channels")
@login_required
@commits
def save_channels():
    if not ActionForm().validate_on_submit():
        abort(400)
    chosen = {group: request.form.getlist(group) for group in profile_channels.groups_for(current_user)}
    profile_channels.save_choices(db.session, current_user, chosen)
    flash(_("Your choice of channels is saved."), "success")
    return redirect(url_for("profile.profile", _anchor="channels"))


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str):
    """Asks first: mail scanners and link previews open links, and must not unsubscribe anyone."""
    if profile_channels.user_id_from_token(token) is None:
        return render_template("accounts/profile_unsubscribe.html", valid=False), 404
    return render_template("accounts/profile_unsubscribe.html", valid=True, asking=True, token=token)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # mail clients' one-click POST (RFC 8058) carries no form token; the signed link is the proof
@commits
def unsubscribe(token: str):
    user_id = profile_channels.user_id_from_token(token)
    undo = profile_channels.unsubscribe_mailings(db.session, user_id) if user_id is not None else None
    if undo is None:
        return render_template("accounts/profile_unsubscribe.html", valid=False), 404
    return render_template("accounts/profile_unsubscribe.html", valid=True, undo=undo, form=ActionForm())


@bp.post("/unsubscribe/undo/<undo>")
@commits
def resubscribe(undo: str):
    if not ActionForm().validate_on_submit() or not profile_channels.resubscribe_mailings(db.session, undo):
        abort(404)
    return render_template("accounts/profile_unsubscribe.html", valid=True, undone=True)
