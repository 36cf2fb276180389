"""One unit of work per request: the views' single place to commit.

`@commits` runs a view and commits once when it returns; the session's
`after_commit` hooks then send what services queued (`send_after_commit`,
`jobs.enqueue`), and a rollback drops it. A `DomainError` that leaves the
view is rolled back and answered: in an `ApiBlueprint` it is re-raised, so
the blueprint answers `application/problem+json`; on a page it is flashed
and the person is sent to `back` (an endpoint, or a function of the view's
arguments giving a URL). A view that shows the refusal itself (a form error
on a re-rendered page) calls `refuse(error)`, which rolls back, keeps the
decorator from committing, and gives the message to show; `discard()` does
the same for a refusal that is not an exception (an import with bad lines).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, flash, g, redirect, request, url_for

from partner_club.api.base import ApiBlueprint
from partner_club.errors import DomainError
from partner_club.extensions import db

Back = str | Callable[..., str] | None


def discard() -> None:
    """Rolls the request's work back; `@commits` then commits nothing."""
    db.session.rollback()
    g.refused = True


def refuse(error: DomainError) -> str:
    """Rolls the request's work back and returns the error's message for the page."""
    discard()
    return error.message


def commits(view: Callable[..., Any] | None = None, *, back: Back = None) -> Any:
    """Decorates a view (or API handler) to commit once on success; see the module's text."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            g.refused = False
            try:
                response = view(*args, **kwargs)
            except DomainError as error:
                db.session.rollback()
                if back is None or _in_api():
                    raise
                flash(error.message, "error")
                return redirect(back(*args, **kwargs) if callable(back) else url_for(back))
            except BaseException:
                db.session.rollback()
                raise
            if not g.pop("refused", False):
                db.session.commit()
            return response

        return wrapped

    return decorator(view) if view is not None else decorator


def _in_api() -> bool:
    return isinstance(current_app.blueprints.get(request.blueprint or ""), ApiBlueprint)
