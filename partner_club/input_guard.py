"""Input no honest client sends, refused at the door with a message a person can act on.

- Ids in URLs beyond the id columns' range (32-bit integers on PostgreSQL)
  do not match a route, so they answer 404 instead of a database error.
- NUL bytes and invalid UTF-8 in the path, the query string, form fields or a
  JSON body answer 400: PostgreSQL refuses NUL in text, and a replacement
  character stored in place of a broken byte would corrupt a name quietly.
- Numbers in a JSON body beyond a 64-bit integer answer 422.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from partner_club.extensions import db

ID_MAX = 2**31 - 1  # the largest id an INTEGER primary key holds on PostgreSQL
JSON_INT_MAX = 2**63 - 1  # BIGINT: the widest integer column of any table
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": ID_MAX}  # ids in the OpenAPI document
REPLACEMENT = "\ufffd"  # what a lenient decoder puts in place of a broken byte


class IdConverter(IntegerConverter):
    """`<int:...>` that matches only ids a table can hold: anything larger is a 404."""

    def __init__(
        self, map: Any, fixed_digits: int = 0, min: int | None = None, max: int | None = None
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=ID_MAX if max is None else max)


class HostileInput(BadRequest):
    """A request with NUL bytes or broken UTF-8; `description` says where."""

    def __init__(self, description: str, reason: str) -> None:
        super().__init__(description)
        self.reason = reason


class NumberOutOfRange(HostileInput):
    code = 422


def install(app: Flask) -> None:
    """Before blueprints are registered, so every `<int:id>` route is bounded."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_hostile_input)
    app.register_error_handler(HostileInput, hostile_input_answer)
    # The net under every view: a number the database cannot hold is the client's error.
    app.register_error_handler(DataError, number_out_of_range_answer)
    app.register_error_handler(OverflowError, number_out_of_range_answer)


def refuse_hostile_input() -> None:
    raw_path = request.environ.get("PATH_INFO", "").encode("latin-1", "replace")
    _check_bytes(raw_path, _("The address"))
    _check_bytes(unquote_to_bytes(request.environ.get("QUERY_STRING", "")), _("The address"))
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            _check_text(name + value, _("The field %(field)s", field=name[:40]))
    if request.is_json and request.content_length:
        data = request.get_data(cache=True)
        _check_bytes(data, _("The JSON body"))
        check_json(request.get_json(silent=True))


def _check_bytes(data: bytes, where: str) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise HostileInput(
            _(
                "%(where)s is not valid UTF-8 text (byte %(pos)d). Send text in UTF-8.",
                where=where,
                pos=error.start + 1,
            ),
            "invalid_utf8",
        ) from None
    _check_text(text, where)


def _check_text(text: str, where: str) -> None:
    if "\x00" in text:
        raise HostileInput(
            _("%(where)s contains a NUL character (code 0). Remove it and try again.", where=where),
            "nul_character",
        )
    if REPLACEMENT in text:
        raise HostileInput(
            _("%(where)s is not valid UTF-8 text. Send text in UTF-8.", where=where), "invalid_utf8"
        )


def check_json(value: Any) -> None:
    """NUL in any string (`\\u0000`) is a 400; an integer beyond 64 bits a 422."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and "\x00" in item:
            raise HostileInput(
                _("The JSON body contains a NUL character (\\u0000). Remove it and try again."),
                "nul_character",
            )
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > JSON_INT_MAX:
            raise NumberOutOfRange(
                _("The number %(value)s… is too large.", value=str(item)[:20]), "number_out_of_range"
            )


def id_in_range(value: Any) -> bool:
    """A whole number an id column can hold (booleans are not ids)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= ID_MAX


def number_out_of_range_answer(error: Exception):
    db.session.rollback()
    return hostile_input_answer(
        NumberOutOfRange(_("A number in the request is out of range."), "number_out_of_range")
    )


def hostile_input_answer(error: HostileInput):
    status = error.code or 400
    if request.path.startswith("/api/"):  # the API's problem shape (api.base builds on this module)
        body = {"type": "about:blank", "title": error.description, "status": status, "reason": error.reason}
        response = jsonify(body)
        response.status_code = status
        response.mimetype = "application/problem+json"
        return response
    return render_template("errors.html", code=status, message=error.description), status
