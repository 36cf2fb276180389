"""The notifications API: the person's own list and unread count, marking read, push subscriptions."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request, session
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from partner_club.accounts.web_sessions import PUSH_ENDPOINT_KEY, current_session_id
from partner_club.api.base import ApiBlueprint, api_login_required, json_body
from partner_club.errors import Invalid
from partner_club.extensions import csrf, db
from partner_club.notifications.models import Notification
from partner_club.notifications.push import SubscriptionRefused, subscribe, unsubscribe, vapid_public_key
from partner_club.notifications.services import mark_read, recent, render, unread_count
from partner_club.web import commits

bp = ApiBlueprint("notifications_api", __name__)
csrf.exempt(bp)

MAX_LIMIT = 100
MAX_IDS = 500


def _item(notification: Notification, locale: str) -> dict[str, Any]:
    title, body = render(notification, locale)
    return {
        "id": notification.id,
        "kind": notification.kind,
        "title": title,
        "body": body,
        "link": notification.link,
        "created_at": notification.created_at.isoformat(),
        "read": notification.read_at is not None,
    }


def _int_arg(name: str, default: int | None, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise Invalid(
            _("%(name)s must be a whole number from 1 to %(high)d.", name=name, high=high), code="bad_" + name
        )
    return int(raw)


@bp.get("/notifications")
@api_login_required()
def list_notifications():
    limit = _int_arg("limit", 20, MAX_LIMIT) or 20
    before = _int_arg("before", None, 2**31 - 1)
    locale = str(get_locale() or current_user.locale or "ru")
    items = recent(db.session, current_user.id, limit, before_id=before)
    return jsonify(
        {
            "unread": unread_count(db.session, current_user.id),
            "items": [_item(n, locale) for n in items],
            "vapid_public_key": vapid_public_key(current_app.config),
        }
    )


@bp.post("/notifications/read")
@api_login_required()
@commits
def read_notifications():
    body = json_body()
    ids = body.get("ids")
    if ids is not None and (
        not isinstance(ids, list)
        or len(ids) > MAX_IDS
        or not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**31 for i in ids)
    ):
        raise Invalid(
            _(
                "ids must be a list of at most %(count)d notification numbers, or left out to mark all.",
                count=MAX_IDS,
            ),
            code="bad_ids",
        )
    marked = mark_read(db.session, current_user.id, ids)
    return jsonify({"marked": marked, "unread": unread_count(db.session, current_user.id)})


@bp.post("/push/subscriptions")
@api_login_required()
@commits
def add_subscription():
    body = json_body()
    keys = body.get("keys") if isinstance(body.get("keys"), dict) else {}
    try:
        row = subscribe(
            db.session,
            current_user.id,
            str(body.get("endpoint") or ""),
            str(keys.get("p256dh") or ""),
            str(keys.get("auth") or ""),
            config=current_app.config,
        )
    except SubscriptionRefused:
        raise Invalid(
            _(
                "This browser's push subscription could not be used. Reload the page and allow notifications again."
            ),
            code="bad_subscription",
        ) from None
    if current_session_id():  # a signed-in browser: sign-out there ends this subscription
        session[PUSH_ENDPOINT_KEY] = row.endpoint
    response = jsonify({"id": row.id})
    response.status_code = 201
    return response


@bp.delete("/push/subscriptions")
@api_login_required()
@commits
def remove_subscription():
    body = request.get_json(silent=True)
    endpoint = body.get("endpoint") if isinstance(body, dict) else None
    if endpoint is not None and not isinstance(endpoint, str):
        raise Invalid(_("endpoint must be the subscription's address."), code="bad_endpoint")
    return jsonify({"removed": unsubscribe(db.session, current_user.id, endpoint)})


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


bp.openapi_schemas["Notification"] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "description": "area.event, e.g. order.shipped"},
        "title": {"type": "string", "description": "In the request's language"},
        "body": {"type": "string"},
        "link": {"type": ["string", "null"], "description": "The club's page the message is about"},
        "created_at": {"type": "string", "format": "date-time"},
        "read": {"type": "boolean"},
    },
}
SUBSCRIPTION = {
    "type": "object",
    "required": ["endpoint", "keys"],
    "description": "PushSubscription.toJSON() of the browser",
    "properties": {
        "endpoint": {"type": "string", "format": "uri"},
        "keys": {
            "type": "object",
            "required": ["p256dh", "auth"],
            "properties": {"p256dh": {"type": "string"}, "auth": {"type": "string"}},
        },
    },
}
UNAUTHORIZED = _problem("Not signed in")
bp.document(
    "/notifications",
    {
        "get": {
            "summary": "The signed-in person's messages, newest first, and how many are unread",
            "parameters": [
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                },
                {
                    "name": "before",
                    "in": "query",
                    "description": "Only messages older than this id (the next page)",
                    "schema": {"type": "integer", "minimum": 1},
                },
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {
                            "unread": {"type": "integer"},
                            "items": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/Notification"},
                            },
                            "vapid_public_key": {
                                "type": ["string", "null"],
                                "description": "applicationServerKey for pushManager.subscribe",
                            },
                        },
                    },
                    "The list",
                ),
                "401": UNAUTHORIZED,
                "422": _problem("A bad limit or before"),
            },
        }
    },
)
bp.document(
    "/notifications/read",
    {
        "post": {
            "summary": "Mark the person's own messages read: the ids given, or all of them",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "ids": {
                                    "type": "array",
                                    "maxItems": MAX_IDS,
                                    "items": {"type": "integer"},
                                    "description": "Left out: all. Others' ids are ignored.",
                                }
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "properties": {"marked": {"type": "integer"}, "unread": {"type": "integer"}},
                    },
                    "Marked",
                ),
                "401": UNAUTHORIZED,
                "422": _problem("ids is not a list of numbers"),
            },
        }
    },
)
bp.document(
    "/push/subscriptions",
    {
        "post": {
            "summary": "Subscribe this browser to Web Push messages for the signed-in person",
            "requestBody": {"required": True, "content": {"application/json": {"schema": SUBSCRIPTION}}},
            "responses": {
                "201": _json({"type": "object", "properties": {"id": {"type": "integer"}}}, "Subscribed"),
                "401": UNAUTHORIZED,
                "422": _problem("Not a usable subscription"),
            },
        },
        "delete": {
            "summary": "Forget the person's subscription at an endpoint (no body: all of theirs)",
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "properties": {"endpoint": {"type": "string"}}}
                    }
                },
            },
            "responses": {
                "200": _json({"type": "object", "properties": {"removed": {"type": "integer"}}}, "Removed"),
                "401": UNAUTHORIZED,
            },
        },
    },
)
