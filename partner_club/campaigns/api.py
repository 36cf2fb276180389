"""Campaigns in the JSON API: the person's own with their progress; staff create and move them.

The forecast (`GET /api/v1/admin/campaigns/<id>/forecast`) replays codes' registrations, so
it lives in reports/campaign_api.py.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from flask import jsonify
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from partner_club.accounts.access import PARTICIPANTS
from partner_club.accounts.models import Role
from partner_club.api.base import ApiBlueprint, api_login_required, json_body
from partner_club.campaigns import kinds, services
from partner_club.campaigns.models import CAP_FIELDS
from partner_club.database import utcnow
from partner_club.errors import Invalid
from partner_club.extensions import csrf, db
from partner_club.web import commits

bp = ApiBlueprint("campaigns_api", __name__)
csrf.exempt(bp)


@bp.get("/campaigns")
@api_login_required(*PARTICIPANTS)
def mine():
    locale = str(get_locale() or "ru")
    answer = []
    for progress in services.campaigns_for(db.session, current_user, now=utcnow()):
        item = services.as_participant_json(progress.campaign, locale)
        item["progress"] = {
            "days_left": progress.days_left,
            "cap_left": progress.cap_left,
            "packages_to_bonus": progress.packages_to_bonus,
            "bonus_packages_each": progress.bonus_each,
            "bonus_products": [
                {"sku": product.sku, "name": product.name, "left": product.left}
                for product in progress.bonus_left
            ]
            if progress.bonus_each
            else None,
            "bonus_products_more": progress.more_products if progress.bonus_each else None,
        }
        answer.append(item)
    return jsonify({"campaigns": answer})


@bp.post("/admin/campaigns")
@api_login_required(Role.ADMIN)
@commits
def create():
    campaign = services.create_campaign(db.session, campaign_from_json(json_body()), actor=current_user)
    return jsonify({"id": campaign.id}), 201


@bp.post("/admin/campaigns/<int:campaign_id>/<any(launch, pause, resume, stop):action>")
@api_login_required(Role.ADMIN)
@commits
def move(campaign_id: int, action: str):
    campaign = services.get_campaign(db.session, campaign_id)
    services.move(db.session, campaign, action, actor=current_user, now=utcnow())
    if action == "launch":
        kinds.announce_launch(db.session, campaign)
    return jsonify({"id": campaign.id, "status": campaign.status})


def _when(body: dict[str, Any], name: str) -> datetime:
    raw = body.get(name)
    try:
        moment = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Invalid(
            _(
                "%(field)s must be a time in ISO 8601 with its offset, such as 2026-03-01T00:00:00+03:00.",
                field=name,
            ),
            code=f"bad_{name}",
            field=name,
        )
    return moment


def _whole(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value != int(value)
    ):
        raise Invalid(_("%(field)s must be a whole number.", field=name), code=f"bad_{name}", field=name)
    return int(value)


def _share(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Invalid(
            _("control_share must be a number from 0 to 0.5."),
            code="bad_control_share",
            field="control_share",
        )
    return float(value)


def _list(value: Any, name: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid(_("%(field)s must be a list.", field=name), code=f"bad_{name}", field=name)
    return value


def campaign_from_json(body: dict[str, Any]) -> services.CampaignData:
    mechanic = body.get("mechanic") or {}
    audience = body.get("audience") or {}
    if not isinstance(mechanic, dict) or not isinstance(audience, dict):
        raise Invalid(_("mechanic and audience must be JSON objects."), code="bad_json", field="mechanic")
    name = body.get("name") or ""
    value = mechanic.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(_("mechanic.value must be a number."), code="bad_value", field="value")
    caps = {cap: _whole(body.get(cap), cap) for cap in CAP_FIELDS}
    if "cap_per_person" in body:
        caps["cap_person_period"] = _whole(body["cap_per_person"], "cap_per_person")
    return services.CampaignData(
        name_ru=str(body.get("name_ru") or name),
        name_en=str(body.get("name_en") or name),
        description_ru=str(body.get("description_ru") or body.get("description") or ""),
        description_en=str(body.get("description_en") or body.get("description") or ""),
        starts_at=_when(body, "starts_at"),
        ends_at=_when(body, "ends_at"),
        time_zone=str(body.get("time_zone") or services.DEFAULT_ZONE),
        mechanic=str(mechanic.get("kind") or ""),
        value=float(value),
        n=_whole(mechanic.get("n"), "n"),
        regions=[str(r) for r in _list(audience.get("regions"), "regions")],
        territory_ids=[_whole(t, "territories") for t in _list(audience.get("territories"), "territories")],
        shop_kinds=[str(k) for k in _list(audience.get("shop_kinds"), "shop_kinds")],
        roles=[str(r) for r in _list(audience.get("roles"), "roles")],
        outlet_ids=[_whole(s, "shops") for s in _list(audience.get("shops"), "shops")],
        skus=[str(s) for s in _list(audience.get("skus"), "skus")],
        product_kinds=[str(k) for k in _list(audience.get("product_kinds"), "product_kinds")],
        packages=[str(p) for p in _list(audience.get("packages"), "packages")],
        budget=_whole(body.get("budget"), "budget"),
        combine=str(body.get("combine") or "adds"),
        priority=_whole(body.get("priority"), "priority") or 0,
        control_share=_share(body.get("control_share")),
        **caps,
    )


_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_CAMPAIGN_IN = {
    "type": "object",
    "required": ["name", "starts_at", "ends_at", "mechanic"],
    "properties": {
        "name": {"type": "string"},
        "name_ru": {"type": "string"},
        "name_en": {"type": "string"},
        "description": {"type": "string"},
        "starts_at": {"type": "string", "format": "date-time", "description": "ISO 8601 with offset"},
        "ends_at": {"type": "string", "format": "date-time"},
        "time_zone": {"type": "string", "example": "Europe/Moscow"},
        "mechanic": {
            "type": "object",
            "required": ["kind", "value"],
            "properties": {
                "kind": {
                    "type": "string",
                    "enum": ["multiplier", "bonus", "every_nth", "once_at_n", "first_n"],
                },
                "value": {"type": "number"},
                "n": {"type": "integer"},
            },
        },
        "audience": {
            "type": "object",
            "properties": {
                key: {"type": "array", "items": {"type": "string"}}
                for key in ("regions", "skus", "shop_kinds", "roles", "product_kinds", "packages")
            }
            | {key: {"type": "array", "items": {"type": "integer"}} for key in ("territories", "shops")},
        },
        "budget": {"type": "integer", "minimum": 0},
        "cap_per_person": {"type": "integer", "minimum": 0},
        "combine": {"type": "string", "enum": ["adds", "best", "exclusive"]},
        "priority": {"type": "integer"},
        "control_share": {"type": "number", "minimum": 0, "maximum": 0.5},
    }
    | {cap: {"type": "integer", "minimum": 0} for cap in CAP_FIELDS},
}

bp.document(
    "/campaigns",
    {
        "get": {
            "summary": "Running campaigns that concern the signed-in participant, with what is left",
            "responses": {
                "200": {
                    "description": "`campaigns`: id, name, description, period, time zone, mechanic "
                    "and `progress` (no audience, budget or control group: those are staff's)"
                    "; `progress`: "
                    "(days_left, cap_left, packages_to_bonus; for a first-N campaign "
                    "bonus_packages_each, N, and bonus_products, a list of {sku, name, left}: "
                    "the packages of each product it names, or that the shop began, that still "
                    "earn the bonus, at most five products, and bonus_products_more: how many "
                    "more products there are)",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
)
bp.document(
    "/admin/campaigns",
    {
        "post": {
            "summary": "Create a campaign (a draft); staff only",
            "requestBody": {"content": {"application/json": {"schema": _CAMPAIGN_IN}}},
            "responses": {
                "201": {
                    "description": "Created",
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}
                        }
                    },
                },
                "422": {"description": "Bad input: `reason` and `field` say what", "content": _PROBLEM},
            },
        }
    },
)
for _action in ("launch", "pause", "resume", "stop"):
    bp.document(
        f"/admin/campaigns/{{id}}/{_action}",
        {
            "post": {
                "summary": f"{_action.capitalize()} a campaign; staff only",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {
                    "200": {"description": "`{id, status}`"},
                    "409": {"description": "Not possible in the campaign's state", "content": _PROBLEM},
                },
            }
        },
    )
