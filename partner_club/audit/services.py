from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from partner_club.accounts.models import User
from partner_club.audit.models import AuditEntry
from partner_club.redact import mask

# Details under these names are kept masked: the log says a tax number changed, not what it is.
MASKED_DETAILS = frozenset({"inn", "tax_number"})


def record(session: Session, actor: User | None, action: str, obj: Any = None, **details: Any) -> AuditEntry:
    """Adds an audit entry in the caller's transaction: it lands with the change."""
    details = {k: mask(v) if k in MASKED_DETAILS and v is not None else v for k, v in details.items()}
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(getattr(obj, "id", "")) if obj is not None else None,
        details=_jsonable(details),
    )
    session.add(entry)
    return entry


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
