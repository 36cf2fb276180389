"""The signed-in person's message preferences in the JSON API: GET/PATCH /api/v1/me/preferences."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from partner_club.accounts import profile, profile_channels
from partner_club.api.base import ApiBlueprint, api_login_required, json_body
from partner_club.errors import Invalid
from partner_club.extensions import csrf, db
from partner_club.notifications.services import ALWAYS_IN_APP
from partner_club.web import commits

bp = ApiBlueprint("profile_api", __name__)
csrf.exempt(bp)


def _preferences() -> dict[str, Any]:
    user = current_user
    return {
        "locale": user.locale,
        "time_zone": user.time_zone,
        "channels": profile_channels.choices_of(db.session, user),
        "always_in_app": sorted(ALWAYS_IN_APP & set(profile_channels.groups_for(user))),
    }


@bp.get("/me/preferences")
@api_login_required()
def preferences():
    return jsonify(_preferences())


@bp.patch("/me/preferences")
@api_login_required()
@commits
def update_preferences():
    data = json_body()
    channels = data.get("channels", {})
    if not isinstance(channels, dict) or not all(
        isinstance(v, list) and all(isinstance(n, str) for n in v) for v in channels.values()
    ):
        raise Invalid(_("`channels` maps a group to a list of channel names."), code="channels_invalid")
    unknown = {n for names in channels.values() for n in names} - {
        "inapp",
        *profile_channels.OUTSIDE_CHANNELS,
    }
    if unknown:
        raise Invalid(_("Unknown channel: %(name)s.", name=sorted(unknown)[0]), code="channels_invalid")
    try:
        profile_channels.save_choices(db.session, current_user, channels)
    except KeyError as error:
        raise Invalid(
            _("There is no group %(group)s for you.", group=error.args[0]), code="group_invalid"
        ) from None
    if "locale" in data or "time_zone" in data:
        change = profile.ProfileChange(
            current_user.full_name or current_user.display_name,
            data.get("locale", current_user.locale),
            data.get("time_zone", current_user.time_zone),
        )
        profile.update_profile(db.session, current_user, change)
    return jsonify(_preferences())


_CHANNELS_SCHEMA = {
    "type": "object",
    "description": "Group -> the outside channels allowed (push, sms, email); the in-app list gets everything",
    "additionalProperties": {"type": "array", "items": {"type": "string", "enum": ["push", "sms", "email"]}},
}
_PREFERENCES = {
    "type": "object",
    "properties": {
        "locale": {"type": ["string", "null"], "enum": ["ru", "en", None]},
        "time_zone": {"type": ["string", "null"], "description": "IANA zone; null: the shop's region"},
        "channels": _CHANNELS_SCHEMA,
        "always_in_app": {"type": "array", "items": {"type": "string"}},
    },
}
bp.openapi_schemas["Preferences"] = _PREFERENCES
_PROBLEM = {"content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
_ANSWER = {
    "description": "The person's preferences",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Preferences"}}},
}
bp.document(
    "/me/preferences",
    {
        "get": {
            "summary": "The signed-in person's language, time zone and channels per message group",
            "responses": {"200": _ANSWER, "401": {"description": "Not signed in", **_PROBLEM}},
        },
        "patch": {
            "summary": "Change some of them; groups not given stay as they are",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "locale": {"type": ["string", "null"]},
                                "time_zone": {"type": ["string", "null"]},
                                "channels": _CHANNELS_SCHEMA,
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": _ANSWER,
                "401": {"description": "Not signed in", **_PROBLEM},
                "422": {"description": "An unknown group, channel list, language or zone", **_PROBLEM},
            },
        },
    },
)
