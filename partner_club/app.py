"""The application factory: extensions, blueprints, CLI; nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

import catalog.api
import catalog.cli
import catalog.demo
import catalog.views
import codes.api
import codes.cli
import codes.demo
import codes.scan_api
import codes.scan_views
import codes.segments
import codes.views
import fraud.cli
import fraud.demo
import fraud.views
import reports.campaign_api
import reports.cli
import reports.demo
import reports.segments
import reports.views
from partner_club import input_guard, security_headers, site
from partner_club import models as core_models  # noqa: F401 - registers the core tables
from partner_club.accounts import cli as accounts_cli
from partner_club.accounts import profile_api as accounts_profile_api
from partner_club.accounts import profile_views as accounts_profile_views
from partner_club.accounts import security_views as accounts_security_views
from partner_club.accounts import views as accounts_views
from partner_club.accounts import web_sessions
from partner_club.accounts.models import User, role_label
from partner_club.admin import views as admin_views
from partner_club.api import views as api_views
from partner_club.api.base import bearer_token, user_from_token
from partner_club.campaigns import api as campaigns_api
from partner_club.campaigns import demo as campaigns_demo
from partner_club.campaigns import views as campaigns_views
from partner_club.config import (
    PACKAGE_DIR,
    development_key_problem,
    from_environment,
    instance_keys,
    vapid_key,
)
from partner_club.demo import cli as demo_cli
from partner_club.demo import messages as demo_messages
from partner_club.extensions import babel, csrf, db, limiter, login_manager, migrate
from partner_club.i18n import i18n
from partner_club.jobs import cli as jobs_cli
from partner_club.jobs import views as jobs_views
from partner_club.ledger import api as ledger_api
from partner_club.ledger import cli as ledger_cli
from partner_club.ledger import views as ledger_views
from partner_club.mailings import cli as mailings_cli
from partner_club.mailings import views as mailings_views
from partner_club.nav import nav_for
from partner_club.notifications import api as notifications_api
from partner_club.notifications import cli as notifications_cli
from partner_club.notifications import views as notifications_views
from partner_club.outlets import cli as outlets_cli
from partner_club.outlets import views as outlets_views
from partner_club.regions import cli as regions_cli
from partner_club.support import api as support_api
from partner_club.support import views as support_views

BLUEPRINTS = (
    site.bp,
    accounts_views.bp,
    accounts_security_views.bp,
    accounts_profile_views.bp,
    accounts_profile_api.bp,
    admin_views.bp,
    api_views.bp,
    jobs_views.bp,
    ledger_views.bp,
    ledger_api.bp,
    outlets_views.bp,
    campaigns_views.bp,
    campaigns_api.bp,
    codes.views.bp,
    codes.api.bp,
    codes.scan_views.bp,
    codes.scan_api.bp,
    fraud.views.bp,
    catalog.views.bp,
    catalog.api.bp,
    reports.views.bp,
    reports.campaign_api.bp,
    notifications_views.bp,
    notifications_api.bp,
    mailings_views.bp,
    support_views.bp,
    support_api.bp,
)

# Each package seeds its part of the demo world after the core, in this order.
DEMO_SEEDERS = (codes.demo.seed, catalog.demo.seed, fraud.demo.seed, reports.demo.seed, campaigns_demo.seed)
DEMO_SEEDERS = (*DEMO_SEEDERS, demo_messages.seed)  # last: it announces the others' work

CLI_GROUPS = (
    accounts_cli.users,
    outlets_cli.outlets,
    regions_cli.regions,
    demo_cli.demo,
    jobs_cli.worker,
    jobs_cli.jobs,
    ledger_cli.points,
    codes.cli.products,
    codes.cli.codes,
    codes.cli.registrations,
    fraud.cli.fraud,
    catalog.cli.catalog,
    reports.cli.reports,
    notifications_cli.notifications,
    mailings_cli.mailings,
    i18n,
)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PACKAGE_DIR / "templates"),
        static_folder=str(PACKAGE_DIR / "static"),
    )
    app.config.update(from_environment(app.instance_path))
    # The embedded default keeps its SQLite file there (as in Flask's tutorial).
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if config:
        app.config.update(config)
    instance_keys(app.config, app.instance_path)
    vapid_key(app.config, app.instance_path)
    if problem := development_key_problem(app.config):
        raise RuntimeError(problem)
    _init_extensions(app)
    _trust_proxies(app)
    input_guard.install(app)  # before the blueprints: their <int:id> routes get bounded ids
    security_headers.init_app(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    for group in CLI_GROUPS:
        app.cli.add_command(group)
    app.extensions["partner_club.demo_seeders"] = DEMO_SEEDERS
    app.jinja_env.globals.update(nav_for=nav_for, current_locale=get_locale, role_label=role_label)
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.user_loader(_load_user)
    login_manager.request_loader(_load_user_from_token)


def _trust_proxies(app: Flask) -> None:
    """Behind a load balancer every request comes from its address: the fraud checks and the
    rate limits need the participant's, which the trusted proxies pass in X-Forwarded-For."""
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


def _select_locale() -> str | None:
    languages = ("ru", "en")
    if not has_request_context():
        return None  # CLI and jobs: the default locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    return request.accept_languages.best_match(languages) or None


def _load_user(user_id: str) -> User | None:
    return web_sessions.load_user(user_id)


def _load_user_from_token(_request: Any) -> User | None:
    token = bearer_token()
    return user_from_token(token) if token else None
