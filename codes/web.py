"""What the codes pages and the API do alike around the registration service."""

from __future__ import annotations

from sqlalchemy.orm import Session

from codes.services import CodeRejected


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
