"""Signing in and out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from partner_club.accounts.forms import LoginForm
from partner_club.accounts.services import authenticate
from partner_club.errors import DomainError
from partner_club.extensions import db, limiter

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect would help phishing."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("site.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    refusal = None
    if form.validate_on_submit():
        try:
            user = authenticate(db.session, form.login.data, form.password.data)
        except DomainError as error:
            db.session.rollback()
            if error.code == "blocked":
                refusal = error.message  # shown above the form: why, and whom to contact
            else:
                form.password.errors.append(error.message)
        else:
            db.session.commit()
            login_user(user, remember=True)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form, refusal=refusal)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))
