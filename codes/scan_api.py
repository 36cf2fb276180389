"""POST /api/v1/scans: the QR codes in a photo or a camera frame, registered on request."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from codes.scan import decode_image
from codes.scan_services import MAX_CODES_PER_PICTURE, classify, register_payloads
from codes.services import RegistrationContext
from codes.uploads import MAX_IMAGE_BYTES, ImageRejected
from codes.web import CLIENT_ID, claim_request, remember_answer
from partner_club.api.base import ApiBlueprint, api_login_required, problem
from partner_club.extensions import csrf, db, limiter
from partner_club.web import commits

bp = ApiBlueprint("scans_api", __name__)
csrf.exempt(bp)


def scan_rate_limit() -> str:
    # The live scanner may send a few frames a second; registrations have
    # their own stricter counter in register_code.
    return current_app.config.get("SCAN_RATE_LIMIT", "240 per minute;3000 per hour")


def rate_key() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.get_id()}"
    return get_remote_address()


def upload_limit() -> int:
    return min(current_app.config.get("MAX_CONTENT_LENGTH") or MAX_IMAGE_BYTES, MAX_IMAGE_BYTES)


def read_upload(upload: FileStorage, max_bytes: int) -> bytes:
    """The file's bytes, reading at most one byte past the limit."""
    data = upload.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageRejected(
            _("The photo is too large (at most %(mb)d MB).", mb=max_bytes // (1024 * 1024)),
            code="file_too_large",
            status=413,
        )
    return data


def _coordinate(name: str, low: float, high: float) -> float | None:
    try:
        value = float(request.form.get(name, ""))
    except ValueError:
        return None
    return value if low <= value <= high else None


def registration_context() -> RegistrationContext:
    return RegistrationContext(
        ip=request.remote_addr,
        device=request.headers.get("User-Agent", "")[:300],
        lat=_coordinate("lat", -90, 90),
        lon=_coordinate("lon", -180, 180),
    )


@bp.post("/scans")
@limiter.limit(scan_rate_limit, key_func=rate_key)
@api_login_required()
@commits
def scan():
    register = request.form.get("register", "").lower() in ("1", "true", "yes", "on")
    upload = request.files.get("image")
    typed = [p for p in request.form.getlist("payload") if p.strip()][:MAX_CODES_PER_PICTURE]
    if upload is None and not typed:
        return problem(400, _("Attach a photo of the code (field \"image\")."), reason="no_image")
    if register and not current_user.is_participant:
        return problem(403, _("Only shop owners and sellers register codes."), reason="forbidden")
    client_id = request.form.get("client_id") or None
    if client_id is not None and not (register and CLIENT_ID.fullmatch(client_id)):
        return problem(
            422,
            _("client_id is 8 to 64 letters, digits, dashes or underscores (a UUID fits)."),
            reason="bad_client_id",
        )
    # A queued photo sent again (its answer was lost) gets the first answer back.
    claim = claim_request(db.session, current_user.id, client_id) if client_id else None
    if isinstance(claim, tuple):
        return jsonify(claim[1]), claim[0]
    photo = read_upload(upload, upload_limit()) if upload is not None else None
    # A live camera frame (frame=1) gets the fast pass only: the next frame is the retry.
    quick = request.form.get("frame") == "1" and not register
    payloads = decode_image(photo, quick=quick) if photo is not None else typed
    public_url = current_app.config["PUBLIC_URL"]
    if register:
        outcomes = register_payloads(
            db.session, current_user, payloads, public_url=public_url, ctx=registration_context(), photo=photo
        )
    else:
        outcomes = classify(payloads, public_url)
    body: dict[str, Any] = {
        "codes": payloads,
        "results": [o.as_json() for o in outcomes],
        "registered": sum(1 for o in outcomes if o.result in ("accepted", "pending_review") and not o.repeat),
        "points": sum(
            o.points for o in outcomes if o.result in ("accepted", "pending_review") and not o.repeat
        ),
    }
    if not payloads:
        body["message"] = _("No code found. Come closer, add light and hold the phone still.")
    if isinstance(claim, int):
        remember_answer(db.session, claim, 200, body)
    return jsonify(body)


@bp.errorhandler(ImageRejected)
def image_rejected(error: ImageRejected):
    return problem(error.status, error.message, reason=error.code)


@bp.errorhandler(413)
def too_large(_error):
    return problem(
        413,
        _("The photo is too large (at most %(mb)d MB).", mb=upload_limit() // (1024 * 1024)),
        reason="file_too_large",
    )


@bp.errorhandler(429)
def too_many(_error):
    return problem(
        429,
        _("Too many scans in a short time. Wait a minute and try again."),
        reason="rate_limited",
        retry_after=60,
    )


_RESULT = {
    "type": "object",
    "properties": {
        "payload": {"type": "string", "description": "The QR code's text"},
        "result": {
            "type": "string",
            "enum": [
                "club_code",
                "accepted",
                "pending_review",
                "already_registered",
                "not_ours",
                "invalid",
                "rejected",
                "too_many_attempts",
            ],
        },
        "message": {"type": "string", "description": "The answer in the person's language"},
        "code": {"type": ["string", "null"]},
        "reason": {"type": ["string", "null"], "description": "Machine-readable refusal reason"},
        "points": {"type": "integer"},
        "product": {"type": ["object", "null"]},
        "registration_id": {"type": ["integer", "null"]},
        "repeat": {"type": "boolean", "description": "Your own earlier registration, answered again"},
    },
}

bp.document(
    "/scans",
    {
        "post": {
            "summary": "Read the QR codes in a photo (and register them)",
            "description": (
                "Every QR code in the picture, in reading order (top to bottom, left to right). With register=1 "
                "each club code (a link <public URL>/c/<code> on this club's host) is registered for the signed-in "
                "shop owner or seller, each with its own result. Without an image, `payload` fields (texts read "
                "by the device's own decoder) are answered the same way."
            ),
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "image": {
                                    "type": "string",
                                    "format": "binary",
                                    "description": "JPEG, PNG or WebP; at most 16 MB and 50 megapixels",
                                },
                                "payload": {
                                    "type": "array",
                                    "maxItems": MAX_CODES_PER_PICTURE,
                                    "items": {"type": "string"},
                                    "description": f"Texts beyond the first {MAX_CODES_PER_PICTURE} are ignored",
                                },
                                "register": {"type": "string", "enum": ["0", "1"]},
                                "frame": {
                                    "type": "string",
                                    "enum": ["0", "1"],
                                    "description": "1: a live camera frame; only the fast decoding pass is tried",
                                },
                                "lat": {"type": "number"},
                                "lon": {"type": "number"},
                                "client_id": {
                                    "type": "string",
                                    "pattern": "^[A-Za-z0-9_-]{8,64}$",
                                    "description": "With register=1: an id the client makes for this photo (a "
                                    "UUID); a resend with the same id gets the first answer",
                                },
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "What was found",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "codes": {"type": "array", "items": {"type": "string"}},
                                    "results": {"type": "array", "items": _RESULT},
                                    "registered": {"type": "integer"},
                                    "points": {"type": "integer"},
                                    "message": {
                                        "type": "string",
                                        "description": "Advice when no code was found",
                                    },
                                },
                            }
                        }
                    },
                },
                "400": {"description": "No image"},
                "403": {"description": "register=1 by someone who is not a shop owner or seller"},
                "413": {
                    "description": "File too large or too many pixels (reason file_too_large, too_many_pixels)"
                },
                "415": {"description": "Not an image (reason not_an_image)"},
                "422": {
                    "description": "Empty, damaged or truncated image (reason empty_file, damaged_image, "
                    "truncated_image)"
                },
                "429": {"description": "Too many scans (reason rate_limited)"},
            },
        }
    },
)
