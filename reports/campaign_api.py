"""GET /api/v1/admin/campaigns/<id>/forecast?weeks=N: the forecast replays codes' registrations."""

from __future__ import annotations

from flask import jsonify, request

from partner_club.accounts.models import Role
from partner_club.api.base import ApiBlueprint, api_login_required
from partner_club.campaigns.services import get_campaign
from partner_club.database import utcnow
from partner_club.extensions import csrf, db
from reports.campaign_forecast import forecast

bp = ApiBlueprint("campaign_forecast_api", __name__)
csrf.exempt(bp)


@bp.get("/admin/campaigns/<int:campaign_id>/forecast")
@api_login_required(Role.ADMIN, Role.HEAD_OFFICE)
def campaign_forecast(campaign_id: int):
    weeks = request.args.get("weeks", 12, type=int) or 12
    result = forecast(db.session, get_campaign(db.session, campaign_id), weeks=weeks, now=utcnow())
    return jsonify(result.as_json())


bp.document(
    "/admin/campaigns/{id}/forecast",
    {
        "get": {
            "summary": "Replay the last N weeks of registrations through the campaign (with the running ones)",
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
                {
                    "name": "weeks",
                    "in": "query",
                    "schema": {"type": "integer", "default": 12, "maximum": 104},
                },
            ],
            "responses": {
                "200": {
                    "description": "points by week and by region, the registrations that earn them, and "
                    "their money at `points.rub_per_point`",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
)
