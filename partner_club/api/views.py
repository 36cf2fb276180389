"""Core API: tokens, the person's own profile, the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask_login import current_user

from partner_club.accounts.services import BadCredentials, profile_of
from partner_club.accounts.signin_limits import sign_in
from partner_club.accounts.web_sessions import signin_store
from partner_club.api.base import ApiBlueprint, api_login_required, issue_token, json_body
from partner_club.extensions import csrf, db, limiter
from partner_club.ledger.services import balance_of
from partner_club.web import commits

bp = ApiBlueprint("api", __name__)
csrf.exempt(bp)


@bp.post("/auth/token")
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
@commits
def token():
    data = json_body()
    login, password = str(data.get("login", "")), str(data.get("password", ""))
    try:
        user = sign_in(db.session, signin_store(), login, password, ip=request.remote_addr)
    except BadCredentials:
        db.session.commit()  # deliberate: the failure's count stays although the request is refused
        raise
    token = issue_token(user, user_agent=request.user_agent.string)
    return jsonify({"token": token})


@bp.get("/me")
@api_login_required()
def me():
    balance = balance_of(db.session, current_user)
    return jsonify(
        {
            **profile_of(db.session, current_user),
            "balance": {"active": balance.active, "pending": balance.pending},
        }
    )


@bp.get("/openapi.json")
def openapi():
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    for blueprint in current_app.blueprints.values():
        for path, operations in getattr(blueprint, "openapi_paths", {}).items():
            paths.setdefault(path, {}).update(operations)
        schemas.update(getattr(blueprint, "openapi_schemas", {}))
    return jsonify(
        {
            "openapi": "3.1.0",
            "info": {"title": "Partner Club API", "version": "1"},
            "servers": [{"url": current_app.config["PUBLIC_URL"]}],
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                "schemas": schemas,
            },
            "security": [{"bearer": []}],
            "paths": dict(sorted(paths.items())),
        }
    )


PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "description": "What went wrong, in the person's language"},
        "status": {"type": "integer"},
        "reason": {"type": "string", "description": "Machine-readable reason"},
    },
}


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


bp.document(
    "/auth/token",
    {
        "post": {
            "summary": "Exchange a login and password for a bearer token",
            "security": [],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["login", "password"],
                            "properties": {"login": {"type": "string"}, "password": {"type": "string"}},
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "A token",
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "properties": {"token": {"type": "string"}}}
                        }
                    },
                },
                "401": _problem_response("Wrong login or password"),
                "403": _problem_response("The account is blocked"),
                "429": _problem_response(
                    "Too many wrong passwords for this account or address (shared with /login); "
                    "Retry-After says when to try again"
                ),
            },
        }
    },
)
bp.document(
    "/me",
    {
        "get": {
            "summary": "The signed-in person: role, shop, balance",
            "responses": {
                "200": {
                    "description": "Profile",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "integer"},
                                    "login": {"type": "string"},
                                    "role": {"type": "string"},
                                    "shop": {"type": ["object", "null"]},
                                    "balance": {
                                        "type": "object",
                                        "properties": {
                                            "active": {"type": "integer"},
                                            "pending": {"type": "integer"},
                                        },
                                    },
                                },
                            }
                        }
                    },
                },
                "401": _problem_response("Not signed in"),
            },
        }
    },
)
