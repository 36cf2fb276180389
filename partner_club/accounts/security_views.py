"""The person's own security: password, devices and API tokens; forgotten passwords.

A blueprint of its own because `views.py` (signing in, invitations, joining,
sellers) is long enough already; both belong to the accounts package.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from partner_club.accounts import jobs, passwords, sessions
from partner_club.accounts.forms import ActionForm, ChangePasswordForm, ForgotPasswordForm, NewPasswordForm
from partner_club.accounts.models import Role
from partner_club.accounts.services import change_password
from partner_club.accounts.web_sessions import current_session_id
from partner_club.errors import DomainError
from partner_club.extensions import db, limiter
from partner_club.jobs.services import enqueue
from partner_club.nav import NavItem
from partner_club.web import commits, discard, refuse

bp = Blueprint("accounts_security", __name__)
bp.nav = [NavItem("accounts_security.security", _l("Security"), frozenset(Role), 90)]


def _reset_limit() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


@bp.route("/account/security", methods=["GET", "POST"])
@login_required
@commits
def security():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            ended = change_password(
                db.session,
                current_user,
                form.current.data,
                form.password.data,
                keep_session=current_session_id(),
            )
        except DomainError as error:
            discard()
            field = getattr(form, error.details.get("field") or "password")
            field.errors = [*list(field.errors), error.message]
        else:
            flash(
                _("Your password is changed. Other devices and API tokens signed out: %(n)d.", n=ended),
                "success",
            )
            return redirect(url_for("accounts_security.security"))
    return render_template(
        "accounts/security.html",
        form=form,
        action_form=ActionForm(),
        live=sessions.live_sessions(db.session, current_user),
        current_id=current_session_id(),
    )


@bp.post("/account/sessions/<session_id>/end")
@login_required
@commits
def end_session(session_id: str):
    if not ActionForm().validate_on_submit():
        abort(400)
    if not sessions.end_session(db.session, current_user, session_id):
        abort(404)
    flash(_("That device or token is signed out."), "success")
    if session_id == current_session_id():
        return redirect(url_for("accounts.login"))
    return redirect(url_for("accounts_security.security"))


@bp.post("/account/sessions/end-others")
@login_required
@commits
def end_other_sessions():
    if not ActionForm().validate_on_submit():
        abort(400)
    ended = sessions.end_sessions(db.session, current_user, keep=current_session_id())
    flash(_("Other devices and API tokens signed out: %(n)d.", n=ended), "success")
    return redirect(url_for("accounts_security.security"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
@commits
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        reset = passwords.request_reset(db.session, form.login.data)
        if reset is not None:
            enqueue(db.session, jobs.send_password_reset, title="password reset e-mail", reset_id=reset.id)
        # The same answer whether the login exists or not.
        return render_template("accounts/password_forgot.html", form=form, sent=True)
    return render_template("accounts/password_forgot.html", form=form, sent=False)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
@commits
def reset_password(token: str):
    if passwords.valid_reset(db.session, token) is None:
        return render_template("accounts/password_reset.html", form=None), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            passwords.reset_password(db.session, token, form.password.data)
        except DomainError as error:
            form.password.errors = [*list(form.password.errors), refuse(error)]
        else:
            flash(_("Your new password is set. Sign in with it."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/password_reset.html", form=form)
