"""What the codes pages and the API do alike around the registration service."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from sqlalchemy import Insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from codes.models import RegistrationRequest
from codes.services import CodeRejected
from partner_club.database import utcnow

# A client-made request id: a UUID, or any 8-64 letters, digits, dashes and underscores.
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
# Answers kept for a resend: what became of the code (accepted, held, refused). A throttled,
# unauthorised or malformed request is not kept: trying again later may fare differently.
KEPT_STATUSES = frozenset({200, 201, 409, 422})
_ANSWERING = 102  # the claim's status until the answer is written, in the same transaction


def commit_refusal(session: Session, error: Exception) -> None:
    """After a refusal: keep the invalid-attempt counter (the only write of a
    `CodeRejected`), drop anything else.

    The one deliberate commit beside `partner_club.web.commits`: the views that call this
    are decorated with it, but a refused registration must still count against the
    person, and the decorator rolls a refusal back."""
    if isinstance(error, CodeRejected):
        session.commit()
    else:
        session.rollback()


@functools.cache
def _claim_statement(dialect: str) -> Insert:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = RegistrationRequest.__table__
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.participant_id, table.c.client_id])
        .returning(table.c.id)
    )


def claim_request(session: Session, participant_id: int, client_id: str) -> int | tuple[int, dict[str, Any]]:
    """Claims a client's request id in the caller's transaction: the claim's row id, or the
    first answer (status, body) when the id was answered before.

    The unique constraint decides between parallel sends of one id: the second INSERT waits
    for the first transaction, and once it commits finds the stored answer."""
    connection = session.connection()
    claimed = connection.execute(
        _claim_statement(connection.dialect.name),
        {
            "participant_id": participant_id,
            "client_id": client_id,
            "status": _ANSWERING,
            "body": "",
            "created_at": utcnow(),
        },
    ).scalar()
    if claimed is not None:
        return claimed
    table = RegistrationRequest.__table__
    row = connection.execute(
        select(table.c.status, table.c.body).where(
            table.c.participant_id == participant_id, table.c.client_id == client_id
        )
    ).one()
    return row.status, json.loads(row.body)


def remember_answer(session: Session, claim_id: int, status: int, body: dict[str, Any]) -> None:
    """Writes the first answer on the claim, in the transaction that produced it."""
    table = RegistrationRequest.__table__
    session.connection().execute(
        update(table)
        .where(table.c.id == claim_id)
        .values(status=status, body=json.dumps(body, ensure_ascii=False, default=str))
    )
