"""POST /api/v1/registrations (one code) and /registrations/batch (a phone's queue)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from codes import services
from codes.models import CHANNELS
from codes.services import CodeRejected
from codes.web import CLIENT_ID, KEPT_STATUSES, claim_request, remember_answer
from partner_club.accounts.access import PARTICIPANTS
from partner_club.api.base import ApiBlueprint, api_login_required, bearer_token, json_body
from partner_club.database import utcnow
from partner_club.errors import DomainError, Invalid
from partner_club.extensions import csrf, db

bp = ApiBlueprint("codes_api", __name__)
MAX_RAW_CODE = 300  # a club link with the code; anything longer is not a code
MAX_BATCH_ITEMS = 50  # a phone's queue is sent in requests of at most this many codes
CLOCK_SKEW = timedelta(minutes=10)  # a phone's clock may run this far ahead
SCANNED_MAX_AGE = timedelta(days=7)  # a queued code older than this is refused
SITE_CHANNELS = ("typed", "scan")  # what the club's own pages may say they were
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
def create_registration():
    """One code; with `client_id`, a resend gets the first answer (see `answer_item`)."""
    status, body = answer_item(json_body())
    response = jsonify(body)
    response.status_code = status
    if status >= 400:
        response.mimetype = "application/problem+json"
        if "retry_after" in body:
            response.headers["Retry-After"] = str(body["retry_after"])
    return response


@bp.post("/registrations/batch")
@api_login_required(*PARTICIPANTS)
def create_registrations():
    """A phone's queue in one request: each item answered as the single call would answer it,
    in its own transaction, so one refused item undoes nothing of the others."""
    items = json_body().get("items")
    if not isinstance(items, list) or not items:
        raise Invalid(_("Send the codes as a list in the field \"items\"."), code="no_items")
    if len(items) > MAX_BATCH_ITEMS:
        raise Invalid(_("At most %(n)d codes in one request.", n=MAX_BATCH_ITEMS), code="too_many_items")
    results = []
    for item in items:
        status, body = answer_item(item) if isinstance(item, dict) else _refusal(_not_an_item())
        client_id = item.get("client_id") if isinstance(item, dict) else None
        results.append({"client_id": client_id, "status": status, "body": body})
    return jsonify({"results": results})


def _not_an_item() -> Invalid:
    return Invalid(_("Each item is an object with a code."), code="bad_item")


def answer_item(item: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Registers one code and answers (HTTP status, body), committing its own unit of work.

    With a `client_id` the id is claimed first in the same transaction and the answer written
    on it before the commit (accepted, held or refused), so a resend, or a parallel send of
    the same id, gets the first answer and the code is registered at most once.
    """
    session = db.session
    try:
        raw, client_id, ctx, channel = _read_item(item)
    except DomainError as error:
        return _refusal(error)
    claim = claim_request(session, current_user.id, client_id) if client_id else None
    if isinstance(claim, tuple):  # answered before: nothing more is done
        session.rollback()
        return claim
    try:
        result = services.register_code(session, current_user, raw, channel=channel, ctx=ctx)
    except DomainError as error:
        status, body = _refusal(error)
        if not isinstance(error, CodeRejected):
            # Only a refused code's counters survive a refusal (codes.web.commit_refusal); the
            # answer is then kept in a transaction of its own.
            session.rollback()
            claim = claim_request(session, current_user.id, client_id) if client_id else None
            if isinstance(claim, tuple):  # a parallel send answered it meanwhile
                session.rollback()
                return claim
    else:
        body = result.as_json()
        if result.status == "pending_review":
            body["message"] = services.held_message(session)
        status = 201 if result.created else 200
    if status in KEPT_STATUSES:
        if claim is not None:
            remember_answer(session, claim, status, body)
        session.commit()
    else:  # throttled or not allowed: nothing kept, the claim neither
        session.rollback()
    return status, body


def _refusal(error: DomainError) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"type": "about:blank", "title": error.message, "status": error.status}
    body["reason"] = error.code
    body.update(error.details)
    return error.status, body


def _read_item(item: dict[str, Any]) -> tuple[str, str | None, services.RegistrationContext, str]:
    """The code, client id, context and channel of one request, or Invalid."""
    raw = item.get("code")
    if not isinstance(raw, str):
        raise Invalid(_("Send the code as text in the field \"code\"."), code="empty")
    if len(raw) > MAX_RAW_CODE:
        raise Invalid(_("The code is too long: it has 13 characters."), code="too_long")
    client_id = item.get("client_id")
    if client_id is not None and not (isinstance(client_id, str) and CLIENT_ID.fullmatch(client_id)):
        raise Invalid(
            _("client_id is 8 to 64 letters, digits, dashes or underscores (a UUID fits)."),
            code="bad_client_id",
        )
    base = request_context(item.get("lat"), item.get("lon"))
    ctx = replace(base, scanned_at=scanned_time(item.get("scanned_at"), utcnow()))
    # The channel is the endpoint's word: "api" for a token. The club's own pages (signed in by
    # the session cookie) say whether the code was typed or read by the camera.
    channel = (
        item.get("channel") if bearer_token() is None and item.get("channel") in SITE_CHANNELS else "api"
    )
    return raw, client_id, ctx, channel


def scanned_time(value: Any, now: datetime) -> datetime | None:
    """When the phone read the code: ISO 8601 with an offset, within the clock skew of now and
    not older than SCANNED_MAX_AGE; None when not given."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise Invalid(
            _("scanned_at is a time in ISO 8601 with its offset, e.g. 2026-12-04T09:30:00+03:00."),
            code="bad_scanned_at",
        )
    when = when.astimezone(UTC)
    if when > now + CLOCK_SKEW:
        raise Invalid(
            _("The time the code was read is in the future: check the clock of the phone."),
            code="scanned_in_future",
        )
    if when < now - SCANNED_MAX_AGE:
        raise Invalid(
            _(
                "This code was read more than %(days)d days ago and can no longer be sent from the "
                "phone's queue. Register it again from the package.",
                days=SCANNED_MAX_AGE.days,
            ),
            code="scanned_too_long_ago",
        )
    return when


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

_ITEM_PROPERTIES: dict[str, Any] = {
    "client_id": {
        "type": "string",
        "pattern": "^[A-Za-z0-9_-]{8,64}$",
        "description": "An id the client makes for this request (a UUID). A resend with the same id gets "
        "the first answer (accepted, held or refused) and registers nothing more; two sends at once "
        "register the code once and both get the same answer.",
    },
    "scanned_at": {
        "type": "string",
        "format": "date-time",
        "description": "When the phone read the code (ISO 8601 with offset): at most 10 minutes ahead of "
        "the server's clock, at most 7 days old. Fraud's pace and night rules judge this time.",
    },
    "channel": {
        "type": "string",
        "enum": list(CHANNELS),
        "description": "With a bearer token ignored (the server records 'api'); the club's own pages "
        "(session cookie and X-CSRFToken header) may say 'typed' or 'scan'.",
    },
    "lat": {"type": "number"},
    "lon": {"type": "number"},
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
                                **_ITEM_PROPERTIES,
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
                                                "source": {
                                                    "type": "string",
                                                    "enum": ["base", "campaign", "welcome", "referral"],
                                                },
                                                "points": {"type": "integer"},
                                                "campaign": {"type": "integer"},
                                                "name": {"type": "string", "description": "the campaign's"},
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
                    "description": "Not a valid code, or a bad client_id or scanned_at; reason is one of "
                    "bad_client_id, bad_scanned_at, scanned_in_future, scanned_too_long_ago, empty, bad_symbols, too_short, too_long, "
                    "bad_check_symbol, not_a_club_link, unknown_batch, serial_out_of_range, "
                    "batch_not_active, batch_voided, fraud_rejected",
                    "content": _PROBLEM,
                },
                "429": {"description": "Too many wrong codes; wait Retry-After seconds", "content": _PROBLEM},
            },
        }
    },
)

bp.document(
    "/registrations/batch",
    {
        "post": {
            "summary": "Register a queue of codes (a phone that was offline), each item with its own answer",
            "description": "Each item is answered as POST /registrations would answer it, in its own "
            "transaction: a refused item undoes nothing of the others. Items with a client_id are safe "
            "to send again.",
            "security": [{"bearer": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["items"],
                            "properties": {
                                "items": {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": MAX_BATCH_ITEMS,
                                    "items": {
                                        "type": "object",
                                        "required": ["code"],
                                        "properties": {"code": {"type": "string"}, **_ITEM_PROPERTIES},
                                    },
                                }
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "One result per item, in order",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "results": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "client_id": {"type": ["string", "null"]},
                                                "status": {
                                                    "type": "integer",
                                                    "description": "The single call's HTTP status",
                                                },
                                                "body": {
                                                    "type": "object",
                                                    "description": "The single call's answer or problem",
                                                },
                                            },
                                        },
                                    }
                                },
                            }
                        }
                    },
                },
                "422": {"description": "No items, or more than the limit (reason no_items, too_many_items)"},
            },
        }
    },
)
