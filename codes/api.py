"""POST /api/v1/registrations: register one code."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from codes import services
from codes.models import CHANNELS
from codes.web import commit_refusal
from partner_club.accounts.access import PARTICIPANTS
from partner_club.api.base import ApiBlueprint, api_login_required, json_body
from partner_club.errors import DomainError, Invalid
from partner_club.extensions import csrf, db
from partner_club.web import commits

bp = ApiBlueprint("codes_api", __name__)
MAX_RAW_CODE = 300  # a club link with the code; anything longer is not a code
csrf.exempt(bp)


def request_context(lat=None, lon=None) -> services.RegistrationContext:
    return services.RegistrationContext(
        ip=request.remote_addr,
        device=request.user_agent.string[:300] or None,
        lat=_coordinate(lat, 90),
        lon=_coordinate(lon, 180),
    )


def _coordinate(value, limit: float):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if -limit <= number <= limit else None


@bp.post("/registrations")
@api_login_required(*PARTICIPANTS)
@commits
def create_registration():
    body = json_body()
    raw = body.get("code")
    if not isinstance(raw, str):
        raise Invalid(_("Send the code as text in the field \"code\"."), code="empty")
    if len(raw) > MAX_RAW_CODE:
        raise Invalid(_("The code is too long: it has 13 characters."), code="too_long")
    # The channel is the endpoint's, never the client's word: a "channel" in the body is ignored.
    try:
        result = services.register_code(
            db.session,
            current_user,
            raw,
            channel="api",
            ctx=request_context(body.get("lat"), body.get("lon")),
        )
    except DomainError as error:
        commit_refusal(db.session, error)
        raise
    answer = result.as_json()
    if result.status == "pending_review":
        answer["message"] = services.held_message(db.session)
    return jsonify(answer), 201 if result.created else 200


_PROBLEM = {
    "application/problem+json": {
        "schema": {
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "reason": {"type": "string"},
            },
        }
    }
}

bp.document(
    "/registrations",
    {
        "post": {
            "summary": "Register a package code for the signed-in shop owner or seller",
            "security": [{"bearer": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["code"],
                            "properties": {
                                "code": {
                                    "type": "string",
                                    "maxLength": MAX_RAW_CODE,
                                    "description": "13 symbols as printed, any case, dashes and spaces "
                                    "allowed, Russian layout and look-alikes read; "
                                    "or a club link <public URL>/c/<code>",
                                },
                                "channel": {
                                    "type": "string",
                                    "enum": list(CHANNELS),
                                    "description": "Ignored: the server records the channel 'api'.",
                                },
                                "lat": {"type": "number"},
                                "lon": {"type": "number"},
                            },
                        }
                    }
                },
            },
            "responses": {
                "201": {
                    "description": "Registered",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "status": {"type": "string", "enum": ["accepted", "pending_review"]},
                                    "points": {"type": "integer"},
                                    "product": {
                                        "type": "object",
                                        "properties": {"sku": {"type": "string"}, "name": {"type": "string"}},
                                    },
                                    "registration_id": {"type": "integer"},
                                    "breakdown": {
                                        "type": "array",
                                        "description": "Where the points came from; they add up to points.",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "source": {"type": "string"},
                                                "points": {"type": "integer"},
                                                "campaign": {"type": "integer"},
                                            },
                                        },
                                    },
                                },
                            }
                        }
                    },
                },
                "200": {
                    "description": "The same person sent the same code again within minutes: the first answer"
                },
                "409": {"description": "Already registered (reason already_registered)", "content": _PROBLEM},
                "422": {
                    "description": "Not a valid code; reason is one of empty, bad_symbols, too_short, too_long, "
                    "bad_check_symbol, not_a_club_link, unknown_batch, serial_out_of_range, "
                    "batch_not_active, batch_voided, fraud_rejected",
                    "content": _PROBLEM,
                },
                "429": {"description": "Too many wrong codes; wait Retry-After seconds", "content": _PROBLEM},
            },
        }
    },
)
