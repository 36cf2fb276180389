"""Pictures people attach to a support message: bounded, checked by content, re-encoded.

The file's name and the browser's content type are ignored: the first bytes
must say JPEG, PNG or WebP and Pillow must open the file as that same type.
The size in pixels is read from the header before any pixel is decoded (a
small file that unpacks into gigabytes is refused). What is kept is made
again from the pixels: screenshots (PNG) stay PNG, photos become JPEG,
upright, at most `MAX_SIDE` on the long side; no EXIF (GPS position, camera
serial) or other metadata survives.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from partner_club.errors import Invalid

MAX_PIXELS = 25_000_000  # a 24-megapixel phone photo passes; a picture to unpack into gigabytes does not
MAX_SIDE = 2560
_FORMATS = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}


@dataclass(frozen=True)
class CleanPicture:
    data: bytes
    mimetype: str
    width: int
    height: int


def _sniff(data: bytes) -> str | None:
    for magic, name in _FORMATS.items():
        if data.startswith(magic):
            return name
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _not_a_picture() -> Invalid:
    return Invalid(
        _("This file is not a picture. Attach a JPEG, PNG or WebP photo or screenshot."),
        code="not_an_image",
        status=415,
    )


def too_large(max_bytes: int) -> Invalid:
    return Invalid(
        _("The picture is too large: at most %(mb)s MB.", mb=_megabytes(max_bytes)),
        code="file_too_large",
        status=413,
    )


def _megabytes(size: int) -> str:
    mb = size / (1024 * 1024)
    return f"{mb:.0f}" if mb >= 1 else f"{mb:.1f}"


def clean_picture(data: bytes, *, max_bytes: int) -> CleanPicture:
    """The upload made safe to keep and show, or Invalid saying what to do instead."""
    if not data:
        raise Invalid(_("The picture file is empty. Choose it again."), code="empty_file")
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    kind = _sniff(data)
    if kind is None:
        raise _not_a_picture()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if (image.format if image.format != "MPO" else "JPEG") != kind:
                raise _not_a_picture()
            width, height = image.size
            if width < 1 or height < 1 or width * height > MAX_PIXELS:
                raise Invalid(
                    _("The picture has too many pixels (at most %(mp)d megapixels).", mp=MAX_PIXELS // 10**6),
                    code="too_many_pixels",
                    status=413,
                )
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Invalid(_("The picture has too many pixels."), code="too_many_pixels", status=413) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Invalid(
            _("The picture cannot be read: the file is damaged or incomplete."), code="damaged_image"
        ) from None
    return _reencoded(image, kind)


def _reencoded(image: Image.Image, kind: str) -> CleanPicture:
    upright = ImageOps.exif_transpose(image)
    keep_png = kind == "PNG"
    converted = upright.convert("RGBA" if keep_png and "A" in upright.getbands() else "RGB")
    if max(converted.size) > MAX_SIDE:
        converted.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if keep_png:
        converted.save(out, "PNG", optimize=True)
    else:
        converted.save(out, "JPEG", quality=85, optimize=True)
    return CleanPicture(
        out.getvalue(), "image/png" if keep_png else "image/jpeg", converted.width, converted.height
    )
