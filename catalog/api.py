"""The catalog's JSON API: what a person may order, ordering, and their orders."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from catalog import services
from catalog.jobs import schedule_submission
from catalog.models import Order, Prize
from catalog.tax import save_tax_profile
from partner_club.accounts.access import PARTICIPANTS
from partner_club.api.base import ApiBlueprint, api_login_required, json_body
from partner_club.errors import Invalid
from partner_club.extensions import csrf, db
from partner_club.input_guard import ID_SCHEMA, id_in_range
from partner_club.ledger.services import balance_of
from partner_club.web import commits

bp = ApiBlueprint("catalog_api", __name__)
csrf.exempt(bp)


def _locale() -> str:
    return str(get_locale() or "ru")


def prize_json(prize: Prize, balance: int) -> dict[str, Any]:
    locale = _locale()
    return {
        "id": prize.id,
        "name": prize.name(locale),
        "description": prize.description(locale),
        "category": prize.category.slug,
        "points": prize.points,
        "in_stock": prize.stock,
        "affordable": balance >= prize.points,
        "points_to_go": max(0, prize.points - balance),
        "picture": url_for("catalog.picture", picture_id=prize.picture_id, _external=True)
        if prize.picture_id
        else None,
    }


def order_json(order: Order) -> dict[str, Any]:
    locale = _locale()
    return {
        "id": order.id,
        "status": order.status,
        "points": order.points,
        "placed_at": order.placed_at.isoformat(),
        "tracking_number": order.tracking_number,
        "cancel_reason": order.cancel_reason,
        "delivery": {"address": order.address, "phone": order.phone},
        "items": [
            {
                "prize": line.prize_id,
                "name": line.prize.name(locale),
                "quantity": line.quantity,
                "points": line.points,
                "gift_cards": [{"code": c.code, "link": c.link} for c in line.gift_cards],
            }
            for line in order.lines
        ],
    }


@bp.get("/catalog")
@api_login_required()
def catalog():
    balance = balance_of(db.session, current_user).active
    prizes = services.search_catalog(
        db.session,
        current_user,
        query=request.args.get("q", "")[:100],
        category_id=request.args.get("category", type=int),
    )
    return jsonify({"balance": balance, "prizes": [prize_json(p, balance) for p in prizes]})


@bp.post("/orders")
@api_login_required(*PARTICIPANTS)
@commits
def place_order():
    data = json_body()
    for item in data.get("items") if isinstance(data.get("items"), list) else ():
        prize = item.get("prize") if isinstance(item, dict) else None
        if isinstance(prize, int) and not id_in_range(prize):
            raise Invalid(_("There is no prize %(id)s.", id=prize), code="bad_item")
    items = services.parse_items(data.get("items"))
    delivery = data.get("delivery")
    if not isinstance(delivery, dict):
        raise Invalid(_("Give the delivery as {address, phone}."), code="bad_delivery")
    key = request.headers.get("Idempotency-Key") or data.get("idempotency_key")
    if key is not None and (not isinstance(key, str) or len(key) > 100):
        raise Invalid(
            _("The Idempotency-Key must be text of at most 100 characters."), code="bad_idempotency_key"
        )
    try:
        placed = services.place_order(
            db.session,
            current_user,
            items,
            address=delivery.get("address"),
            phone=delivery.get("phone"),
            idempotency_key=key,
        )
        schedule_submission(db.session, placed.order)
    except services.AlreadyPlaced:  # the same key, sent twice at the same moment
        db.session.rollback()
        placed = services.Placed(services.find_by_key(db.session, current_user, key), True)
    order = placed.order
    response = jsonify(
        {
            "id": order.id,
            "status": order.status,
            "points": order.points,
            "balance": balance_of(db.session, current_user).active,
        }
    )
    response.status_code = 200 if placed.replay else 201
    response.headers["Location"] = url_for("catalog_api.get_order", order_id=order.id)
    if placed.replay:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/orders/<int:order_id>")
@api_login_required()
def get_order(order_id: int):
    return jsonify(order_json(services.own_order(db.session, current_user, order_id)))


@bp.get("/orders")
@api_login_required()
def list_orders():
    return jsonify({"orders": [order_json(o) for o in services.orders_of(db.session, current_user)]})


@bp.put("/tax-profile")
@api_login_required(*PARTICIPANTS)
@commits
def put_tax_profile():
    """INN and consent, asked once before the first order above the year's tax-free allowance."""
    data = json_body()
    profile = save_tax_profile(
        db.session, current_user, str(data.get("inn") or ""), consent=data.get("consent") is True
    )
    return jsonify({"inn": profile.inn, "consent_at": profile.consent_at.isoformat()})


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


bp.openapi_schemas["Prize"] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "category": {"type": "string"},
        "points": {"type": "integer"},
        "in_stock": {"type": "integer"},
        "affordable": {"type": "boolean"},
        "points_to_go": {"type": "integer"},
        "picture": {"type": ["string", "null"], "format": "uri"},
    },
}
bp.openapi_schemas["Order"] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": ["placed", "confirmed", "shipped", "delivered", "cancelled"]},
        "points": {"type": "integer"},
        "placed_at": {"type": "string", "format": "date-time"},
        "tracking_number": {"type": ["string", "null"]},
        "cancel_reason": {"type": ["string", "null"]},
        "delivery": {"type": "object"},
        "items": {"type": "array", "items": {"type": "object"}},
    },
}
bp.document(
    "/catalog",
    {
        "get": {
            "summary": "Prizes the signed-in person may see, with their price in points",
            "parameters": [
                {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 100}},
                {"name": "category", "in": "query", "schema": ID_SCHEMA},
            ],
            "responses": {
                "200": {
                    "description": "The catalog",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "balance": {"type": "integer"},
                                    "prizes": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Prize"},
                                    },
                                },
                            }
                        }
                    },
                },
                "401": _problem("Not signed in"),
            },
        }
    },
)
bp.document(
    "/orders",
    {
        "post": {
            "summary": "Order prizes: stock and points are taken at once, all or nothing",
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "schema": {"type": "string", "maxLength": 100},
                    "description": "Repeat a request with the same key to get the same order, never a second",
                }
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["items", "delivery"],
                            "properties": {
                                "items": {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": services.MAX_LINES,
                                    "description": f"At most {services.MAX_LINES} different prizes, "
                                    f"at most {services.MAX_QUANTITY} of one prize",
                                    "items": {
                                        "type": "object",
                                        "required": ["prize"],
                                        "properties": {
                                            "prize": ID_SCHEMA,
                                            "quantity": {
                                                "type": "integer",
                                                "minimum": 1,
                                                "maximum": services.MAX_QUANTITY,
                                                "default": 1,
                                            },
                                        },
                                    },
                                },
                                "delivery": {
                                    "type": "object",
                                    "required": ["address", "phone"],
                                    "properties": {
                                        "address": {"type": "string", "minLength": 10, "maxLength": 500},
                                        "phone": {"type": "string"},
                                    },
                                },
                            },
                        }
                    }
                },
            },
            "responses": {
                "201": {
                    "description": "Placed",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "integer"},
                                    "status": {"type": "string"},
                                    "points": {"type": "integer"},
                                    "balance": {"type": "integer"},
                                },
                            }
                        }
                    },
                },
                "200": {"description": "The same Idempotency-Key again: the order placed before"},
                "401": _problem("Not signed in"),
                "403": _problem("Only participants order prizes"),
                "409": _problem("reason insufficient_points, out_of_stock or tax_profile_required"),
                "422": _problem(
                    "Bad input: reason empty_order, bad_item, bad_quantity, bad_address, bad_phone, "
                    "prize_not_available"
                ),
            },
        },
        "get": {"summary": "The signed-in person's orders", "responses": {"200": {"description": "Orders"}}},
    },
)
bp.document(
    "/orders/{order_id}",
    {
        "get": {
            "summary": "One of the signed-in person's own orders, with its status and tracking number",
            "parameters": [{"name": "order_id", "in": "path", "required": True, "schema": ID_SCHEMA}],
            "responses": {
                "200": {
                    "description": "The order",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}},
                },
                "404": _problem("No such order of yours"),
            },
        }
    },
)
bp.document(
    "/tax-profile",
    {
        "put": {
            "summary": "Give the INN (12 digits) and consent once; needed when an order answers 409 tax_profile_required",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["inn", "consent"],
                            "properties": {
                                "inn": {"type": "string", "maxLength": 20, "description": "12 digits"},
                                "consent": {"type": "boolean", "const": True},
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {"description": "Saved"},
                "422": _problem("reason bad_inn (checksum) or no_consent"),
            },
        }
    },
)
