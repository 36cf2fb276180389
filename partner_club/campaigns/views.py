"""Campaign pages: staff list, create, edit, read and move campaigns; participants see theirs."""

from __future__ import annotations

import click
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from partner_club.accounts import invitations as inv
from partner_club.accounts.access import PARTICIPANTS, roles_required
from partner_club.accounts.forms import SellerCodeForm
from partner_club.accounts.models import Role
from partner_club.campaigns import bonuses, kinds, referrals, services
from partner_club.campaigns.forms import BonusRulesForm, CampaignForm
from partner_club.campaigns.models import status_label
from partner_club.campaigns.panels import render_panels
from partner_club.database import utcnow
from partner_club.errors import DomainError
from partner_club.extensions import db
from partner_club.home import PARTICIPANTS as HOME_PARTICIPANTS
from partner_club.home import HomeCard
from partner_club.nav import NavItem
from partner_club.web import commits, refuse

bp = Blueprint("campaigns", __name__)


def _home_campaigns(session, user) -> dict | None:
    """The participant's home page lists the campaigns that concern them, with what is left."""
    progress = services.campaigns_for(session, user, now=utcnow())
    return {"progress": progress, "locale": str(get_locale() or "ru")} if progress else None


def _home_referral(session, user) -> dict | None:
    """An owner's home page offers the referral link while the admin's rule pays a bonus."""
    rule = bonuses.referral_rule(session)
    return {"rule": rule} if rule.enabled and user.outlet_id else None


bp.home_cards = [
    HomeCard("campaigns", HOME_PARTICIPANTS, _home_campaigns, "campaigns/home_card.html", 15),
    HomeCard("referral", frozenset({Role.OWNER}), _home_referral, "campaigns/referral_card.html", 16),
]
STAFF = (Role.ADMIN, Role.HEAD_OFFICE)
bp.nav = [
    NavItem("campaigns.index", _l("Campaigns"), frozenset(STAFF), order=45),
    NavItem("campaigns.mine", _l("Campaigns"), frozenset(PARTICIPANTS), order=45),
]
MOVES = {
    "launch": _l("Launched."),
    "pause": _l("Paused."),
    "resume": _l("Resumed."),
    "stop": _l("Stopped."),
}


@bp.get("/campaigns")
@roles_required(*PARTICIPANTS)
def mine():
    progress = services.campaigns_for(db.session, current_user, now=utcnow())
    return render_template("campaigns/mine.html", progress=progress, locale=str(get_locale() or "ru"))


@bp.get("/shop/referral")
@roles_required(Role.OWNER)
def referral():
    invitation = inv.active_referral_invitation(db.session, current_user)
    link = qr = None
    if invitation is not None:
        link = f"{current_app.config['PUBLIC_URL']}/join/{invitation.code}"
        qr = inv.qr_svg(link)
    return render_template(
        "campaigns/referral.html",
        invitation=invitation,
        link=link,
        qr=qr,
        rule=bonuses.referral_rule(db.session),
        brought=referrals.shops_brought(db.session, current_user),
        form=SellerCodeForm(valid_days=inv.default_valid_days(db.session)),
        format_code=inv.format_code,
    )


@bp.post("/shop/referral")
@roles_required(Role.OWNER)
@commits
def referral_code():
    form = SellerCodeForm()
    if not form.validate_on_submit():
        flash(_("An invitation is valid for 1 to 365 days."), "error")
    else:
        inv.issue_referral_invitation(db.session, current_user, valid_days=form.valid_days.data)
        flash(_("A new referral link is ready. The old one no longer works."), "success")
    return redirect(url_for("campaigns.referral"))


@bp.get("/admin/campaigns")
@roles_required(*STAFF)
def index():
    return render_template(
        "campaigns/index.html",
        campaigns=services.list_campaigns(db.session),
        now=utcnow(),
        status=services.effective_status,
    )


def _save(form: CampaignForm, campaign=None):
    """Validates through the service; a refusal shows on its field and nothing is saved."""
    if not form.validate_on_submit():
        return None
    try:
        data = form.to_data()
        if campaign is None:
            campaign = services.create_campaign(db.session, data, actor=current_user)
        else:
            services.update_campaign(db.session, campaign, data, actor=current_user, now=utcnow())
    except DomainError as error:
        target = getattr(form, error.details.get("field", ""), None)
        if target is None or error.details.get("field") == "audience":
            target = form.regions
        target.errors = [*target.errors, refuse(error)]
        return None
    return campaign


@bp.route("/admin/campaigns/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@commits
def new():
    form = CampaignForm()
    campaign = _save(form) if request.method == "POST" else None
    if campaign is not None:
        flash(_("The campaign is saved as a draft: check its forecast, then launch it."), "success")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template(
        "campaigns/form.html", form=form, campaign=None
    ), 422 if request.method == "POST" else 200


@bp.route("/admin/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@commits
def edit(campaign_id: int):
    campaign = services.get_campaign(db.session, campaign_id)
    form = CampaignForm()
    if request.method == "GET":
        form.fill(campaign)
    elif _save(form, campaign) is not None:
        if campaign.changed_at:
            flash(
                _("Saved. The change applies to registrations from now on; earlier points stay."), "success"
            )
        else:
            flash(_("Saved."), "success")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=campaign), (
        422 if request.method == "POST" else 200
    )


@bp.get("/admin/campaigns/<int:campaign_id>")
@roles_required(*STAFF)
def show(campaign_id: int):
    campaign = services.get_campaign(db.session, campaign_id)
    now = utcnow()
    weeks = max(1, min(request.args.get("weeks", 12, type=int) or 12, 104))
    return render_template(
        "campaigns/show.html",
        campaign=campaign,
        status=services.effective_status(campaign, now),
        audience=services.audience_size(db.session, services.CampaignData.of(campaign)),
        live=services.live_figures(db.session, campaign),
        panels=render_panels(db.session, campaign, now=now, weeks=weeks),
        weeks=weeks,
        status_label=status_label,
        locale=str(get_locale() or "ru"),
    )


@bp.post("/admin/campaigns/<int:campaign_id>/<any(launch, pause, resume, stop):action>")
@roles_required(Role.ADMIN)
@commits
def move(campaign_id: int, action: str):
    campaign = services.get_campaign(db.session, campaign_id)
    try:
        services.move(db.session, campaign, action, actor=current_user, now=utcnow())
        if action == "launch":
            kinds.announce_launch(db.session, campaign)
    except DomainError as error:
        flash(refuse(error), "error")
    else:
        flash(str(MOVES[action]), "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


@bp.route("/admin/campaigns/bonuses", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@commits
def bonus_rules():
    form = BonusRulesForm()
    if request.method == "GET":
        welcome, referral = bonuses.welcome_rule(db.session), bonuses.referral_rule(db.session)
        form.welcome_points.data, form.referral_points.data = welcome.points, referral.points
        form.referral_after.data = referral.after
    elif form.validate_on_submit():
        bonuses.store_rules(
            db.session,
            welcome=bonuses.validate_rule(form.welcome_points.data),
            referral=bonuses.validate_rule(form.referral_points.data, form.referral_after.data),
            actor_id=current_user.id,
        )
        flash(_("Saved."), "success")
        return redirect(url_for("campaigns.bonus_rules"))
    return render_template("campaigns/bonuses.html", form=form)


@bp.cli.command("end-due")
def end_due() -> None:
    """Campaigns whose period is over become `ended` (run it every few minutes)."""
    ended = services.end_due_campaigns(db.session, utcnow())
    db.session.commit()
    click.echo(f"{len(ended)} campaign(s) ended" + (f": {', '.join(map(str, ended))}" if ended else ""))
