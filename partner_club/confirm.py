"""A second step before anything that cannot be taken back in one tap.

A form that voids, blocks, removes or cancels posts first to a `.../confirm`
route, which changes nothing: it renders `confirmation(...)`, a page that says
what will happen (to how many codes, points, people) and posts the same fields
to the real action. It works without JavaScript; the real action's route is
unchanged, so scripts and the API keep their one call.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request


def confirmation(
    *,
    title: Any,
    consequences: list[Any],
    action: str,
    button: Any,
    back: str,
    undo: Any = None,
) -> str:
    """The confirmation page; the posted fields (less the CSRF token) go on to `action`."""
    fields = [(k, v) for k, v in request.form.items(multi=True) if k != "csrf_token"]
    return render_template(
        "partner_club/confirm.html",
        title=title,
        consequences=consequences,
        action=action,
        button=button,
        back=back,
        undo=undo,
        fields=fields,
    )
