"""The support desk's JSON API: a person's requests and their threads; staff's queue.

A ticket is answered only to its author and the staff whose scope covers it;
anyone else gets 404, as for a ticket that does not exist. New tickets take
JSON, or multipart/form-data when a picture comes along (field `photo`).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from partner_club.api.base import ApiBlueprint, api_login_required, json_body, problem
from partner_club.errors import Invalid
from partner_club.extensions import csrf, db
from partner_club.input_guard import ID_SCHEMA
from partner_club.support import services
from partner_club.support.models import Message, Status, Ticket, Topic
from partner_club.support.photos import too_large
from partner_club.support.views import photo_limit, uploaded_photo
from partner_club.web import commits

bp = ApiBlueprint("support_api", __name__, url_prefix="/api/v1/support")
csrf.exempt(bp)


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "from_staff": message.from_staff,
        "author": message.author.display_name,
        "text": message.body,
        "created_at": message.created_at.isoformat(),
        "photo": url_for("support.photo", photo_id=message.photo.id, _external=True)
        if message.photo
        else None,
    }


def ticket_json(ticket: Ticket, *, with_messages: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": ticket.id,
        "topic": ticket.topic,
        "status": ticket.status,
        "status_label": ticket.status_label,
        "summary": ticket.summary,
        "page": ticket.page,
        "created_at": ticket.created_at.isoformat(),
        "waiting_since": ticket.waiting_since.isoformat(),
        "first_answered_at": ticket.first_answered_at.isoformat() if ticket.first_answered_at else None,
        "resolved_at": ticket.resolved_at.isoformat() if ticket.resolved_at else None,
        "assigned": ticket.assignee_id is not None,
        "link": url_for("support.ticket", ticket_id=ticket.id, _external=True),
    }
    if with_messages:
        body["messages"] = [message_json(m) for m in ticket.messages]
    return body


def _fields() -> dict[str, Any]:
    """The request's fields and picture, whether sent as JSON or as a form with a file."""
    if request.mimetype == "multipart/form-data":
        return {**request.form.to_dict(), "photo": uploaded_photo(request.files.get("photo"))}
    data = json_body()
    for name in ("topic", "text", "page"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise Invalid(_("Give %(name)s as text.", name=name), code="bad_field")
    return {**data, "photo": None}


@bp.errorhandler(413)
def request_too_large(_error):
    refusal = too_large(photo_limit())
    return problem(413, refusal.message, reason=refusal.code)


@bp.get("/tickets")
@api_login_required()
def list_tickets():
    """The person's own requests; staff add ?view=queue for the queue in their scope."""
    if request.args.get("view") == "queue" and services.is_staff(current_user):
        status = request.args.get("status", "open")
        wanted = services.QueueFilter(
            status=status if status in services.STATUS_FILTERS else "open",
            topic=request.args.get("topic", ""),
            mine=request.args.get("mine") == "1",
            unassigned=request.args.get("unassigned") == "1",
        )
        tickets = services.staff_queue(db.session, current_user, wanted)
    else:
        tickets = services.tickets_of(db.session, current_user)
    return jsonify({"tickets": [ticket_json(t) for t in tickets]})


@bp.post("/tickets")
@api_login_required()
@commits
def create_ticket():
    fields = _fields()
    ticket = services.open_ticket(
        db.session,
        current_user,
        topic=str(fields.get("topic") or ""),
        text=fields.get("text"),
        page=fields.get("page"),
        photo=fields["photo"],
        max_photo_bytes=photo_limit(),
    )
    response = jsonify(ticket_json(ticket, with_messages=True))
    response.status_code = 201
    response.headers["Location"] = url_for("support_api.get_ticket", ticket_id=ticket.id)
    return response


@bp.get("/tickets/<int:ticket_id>")
@api_login_required()
def get_ticket(ticket_id: int):
    return jsonify(ticket_json(services.ticket_for(db.session, current_user, ticket_id), with_messages=True))


@bp.post("/tickets/<int:ticket_id>/messages")
@api_login_required()
@commits
def add_message(ticket_id: int):
    ticket = services.ticket_for(db.session, current_user, ticket_id)
    fields = _fields()
    resolve = fields.get("resolve") in (True, "1", "true")
    message = services.add_message(
        db.session,
        current_user,
        ticket,
        text=fields.get("text"),
        photo=fields["photo"],
        max_photo_bytes=photo_limit(),
        resolve=resolve and ticket.author_id != current_user.id,
    )
    response = jsonify({**message_json(message), "ticket": ticket_json(ticket)})
    response.status_code = 201
    return response


# --- OpenAPI ---------------------------------------------------------------------------------


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _json(ref: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


_NEW_FIELDS = {
    "topic": {"type": "string", "enum": [t.value for t in Topic]},
    "text": {"type": "string", "maxLength": services.MAX_TEXT},
    "page": {"type": "string", "maxLength": services.MAX_PAGE, "description": "The page it was sent from"},
}
_PHOTO = {
    "type": "string",
    "format": "binary",
    "description": "JPEG, PNG or WebP, judged by content; at most MAX_UPLOAD_BYTES",
}

bp.openapi_schemas["SupportMessage"] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "from_staff": {"type": "boolean"},
        "author": {"type": "string"},
        "text": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "photo": {"type": ["string", "null"], "format": "uri"},
    },
}
bp.openapi_schemas["SupportTicket"] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "topic": {"type": "string", "enum": [t.value for t in Topic]},
        "status": {"type": "string", "enum": [s.value for s in Status]},
        "status_label": {"type": "string"},
        "summary": {"type": "string"},
        "page": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "waiting_since": {"type": "string", "format": "date-time"},
        "first_answered_at": {"type": ["string", "null"], "format": "date-time"},
        "resolved_at": {"type": ["string", "null"], "format": "date-time"},
        "assigned": {"type": "boolean"},
        "link": {"type": "string", "format": "uri"},
        "messages": {"type": "array", "items": {"$ref": "#/components/schemas/SupportMessage"}},
    },
}

bp.document(
    "/support/tickets",
    {
        "get": {
            "summary": "The signed-in person's requests to support; staff: ?view=queue for their queue",
            "parameters": [
                {"name": "view", "in": "query", "schema": {"type": "string", "enum": ["mine", "queue"]}},
                {
                    "name": "status",
                    "in": "query",
                    "schema": {"type": "string", "enum": list(services.STATUS_FILTERS)},
                },
                {
                    "name": "topic",
                    "in": "query",
                    "schema": {"type": "string", "enum": [t.value for t in Topic]},
                },
                {"name": "mine", "in": "query", "schema": {"type": "string", "enum": ["1"]}},
                {"name": "unassigned", "in": "query", "schema": {"type": "string", "enum": ["1"]}},
            ],
            "responses": {
                "200": {
                    "description": "Requests, the queue oldest waiting first",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "tickets": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/SupportTicket"},
                                    }
                                },
                            }
                        }
                    },
                },
                "401": _problem("Not signed in"),
            },
        },
        "post": {
            "summary": "Send a question or feedback, optionally with a photo or screenshot",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "required": ["topic", "text"], "properties": _NEW_FIELDS}
                    },
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["topic", "text"],
                            "properties": {**_NEW_FIELDS, "photo": _PHOTO},
                        }
                    },
                },
            },
            "responses": {
                "201": _json("#/components/schemas/SupportTicket", "The new request with its first message"),
                "401": _problem("Not signed in"),
                "413": _problem("The picture is too large"),
                "415": _problem("The file is not a JPEG, PNG or WebP picture"),
                "422": _problem("No text, an unknown topic, or a damaged picture"),
                "429": _problem("Too many new requests in a short time (see Retry-After)"),
            },
        },
    },
)
bp.document(
    "/support/tickets/{ticket_id}",
    {
        "get": {
            "summary": "One request with its thread: its author's, or in the staff member's scope",
            "parameters": [{"name": "ticket_id", "in": "path", "required": True, "schema": ID_SCHEMA}],
            "responses": {
                "200": _json("#/components/schemas/SupportTicket", "The request and its messages"),
                "401": _problem("Not signed in"),
                "404": _problem("No such request, or not one of this person's"),
            },
        }
    },
)
bp.document(
    "/support/tickets/{ticket_id}/messages",
    {
        "post": {
            "summary": "Reply in the thread: the author's reply reopens it, staff's answers it",
            "parameters": [{"name": "ticket_id", "in": "path", "required": True, "schema": ID_SCHEMA}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["text"],
                            "properties": {
                                "text": _NEW_FIELDS["text"],
                                "resolve": {
                                    "type": "boolean",
                                    "description": "Staff: answer and mark resolved",
                                },
                            },
                        }
                    },
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["text"],
                            "properties": {
                                "text": _NEW_FIELDS["text"],
                                "resolve": {"type": "string"},
                                "photo": _PHOTO,
                            },
                        }
                    },
                },
            },
            "responses": {
                "201": _json(
                    "#/components/schemas/SupportMessage", "The message, with the ticket's new state"
                ),
                "401": _problem("Not signed in"),
                "404": _problem("No such request, or not one of this person's"),
                "413": _problem("The picture is too large"),
                "415": _problem("The file is not a JPEG, PNG or WebP picture"),
                "422": _problem("No text or a damaged picture"),
            },
        }
    },
)
