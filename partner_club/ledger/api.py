"""GET /api/v1/ledger: the signed-in person's points history, page by page."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from partner_club.accounts.access import PARTICIPANTS
from partner_club.accounts.models import Role
from partner_club.api.base import ApiBlueprint, api_login_required
from partner_club.errors import Forbidden, Invalid
from partner_club.extensions import csrf, db
from partner_club.ledger import queries
from partner_club.ledger.models import Account

bp = ApiBlueprint("ledger_api", __name__)
csrf.exempt(bp)

MAX_PER_PAGE = 100


@bp.get("/ledger")
@api_login_required(*PARTICIPANTS)
def ledger_history():
    page = _int_arg("page", 1, 1, 1_000_000)
    per_page = _int_arg("per_page", queries.PER_PAGE, 1, MAX_PER_PAGE)
    scope = request.args.get("account", "me")
    if scope == "shop":
        if current_user.role != Role.OWNER.value:
            raise Forbidden(_("Only the shop's owner sees the shop's points."))
        account = db.session.scalar(select(Account).where(Account.outlet_id == current_user.outlet_id))
    elif scope == "me":
        account = db.session.scalar(select(Account).where(Account.user_id == current_user.id))
    else:
        raise Invalid(_("The account must be \"me\" or \"shop\"."), code="bad_account")
    result = queries.history(db.session, account, page, per_page)
    return jsonify(
        {
            "balance": {
                "active": account.active if account else 0,
                "pending": account.pending if account else 0,
            },
            "page": result.page,
            "pages": result.pages,
            "per_page": per_page,
            "total": result.total,
            "items": [_line(line) for line in result.items],
        }
    )


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise Invalid(
            _("%(name)s must be a whole number from %(low)d to %(high)d.", name=name, low=low, high=high),
            code="bad_" + name,
        )
    return value


def _line(line: queries.HistoryLine) -> dict:
    entry = line.entry
    return {
        "id": entry.id,
        "kind": entry.kind,
        "bucket": entry.bucket,
        "amount": entry.amount,
        "cause": {"type": entry.cause_type, "id": entry.cause_id},
        "title": line.title,
        "description": line.cause,
        "reason": entry.reason,
        "reverses": entry.reverses_id,
        "created_at": entry.created_at.isoformat(),
    }


_ENTRY = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "kind": {
            "type": "string",
            "enum": [
                "accrual",
                "action",
                "redemption",
                "refund",
                "expiry",
                "reversal",
                "adjustment",
                "confirmation",
                "rejection",
            ],
        },
        "bucket": {"type": "string", "enum": ["active", "pending"]},
        "amount": {"type": "integer", "description": "Signed: positive adds points, negative takes them"},
        "cause": {
            "type": "object",
            "properties": {"type": {"type": "string"}, "id": {"type": ["string", "null"]}},
        },
        "title": {"type": "string", "description": "What happened, in the person's language"},
        "description": {"type": "string", "description": "The cause, in the person's language"},
        "reason": {"type": ["string", "null"]},
        "reverses": {"type": ["integer", "null"], "description": "The entry this one reverses"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
bp.openapi_schemas["LedgerEntry"] = _ENTRY
bp.document(
    "/ledger",
    {
        "get": {
            "summary": "The signed-in participant's points history, newest first",
            "parameters": [
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
                {
                    "name": "per_page",
                    "in": "query",
                    "schema": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_PER_PAGE,
                        "default": queries.PER_PAGE,
                    },
                },
                {
                    "name": "account",
                    "in": "query",
                    "description": "`me`, or `shop` for the owner's shop account",
                    "schema": {"type": "string", "enum": ["me", "shop"], "default": "me"},
                },
            ],
            "responses": {
                "200": {
                    "description": "One page of entries",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "balance": {
                                        "type": "object",
                                        "properties": {
                                            "active": {"type": "integer"},
                                            "pending": {"type": "integer"},
                                        },
                                    },
                                    "page": {"type": "integer"},
                                    "pages": {"type": "integer"},
                                    "per_page": {"type": "integer"},
                                    "total": {"type": "integer"},
                                    "items": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/LedgerEntry"},
                                    },
                                },
                            }
                        }
                    },
                },
                "401": {"description": "Not signed in"},
                "403": {"description": "Not a participant, or not the shop's owner"},
                "422": {"description": "A bad page, per_page or account"},
            },
        }
    },
)
