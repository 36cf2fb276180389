"""Bounded image uploads: what the scanner accepts, and what it ever keeps.

Every uploaded picture passes `open_image()` before any pixel is decoded:
its size in bytes, its type judged by its content (never by its name or the
browser's word), and its size in pixels read from the header, so a small
file that would unpack into gigabytes (a decompression bomb) is refused
before it costs memory. A photo is kept only when the fraud review needs it
(codes.scan_services.keep_review_photo), and then only re-encoded from its
pixels by `without_metadata`, so no EXIF (GPS position, camera serial)
survives.
"""

from __future__ import annotations

import io
import warnings

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

# The default when no app config says otherwise; the app's MAX_CONTENT_LENGTH
# (MAX_UPLOAD_BYTES) refuses larger request bodies before they are read.
MAX_IMAGE_BYTES = 16 * 1024 * 1024
# 50 megapixels: more than any phone camera's default mode, far below a bomb.
# Checked from the header before any pixel is decoded; Pillow's own guard
# (Image.MAX_IMAGE_PIXELS, left at its default for the rest of the app)
# stays on as a second line and is answered the same way.
MAX_IMAGE_PIXELS = 50_000_000

# A kept review photo is reduced to this long side: enough to read every
# label, a fraction of a 12 MP original in the database.
REVIEW_PHOTO_SIDE = 2560

_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)


class ImageRejected(ValueError):
    """An upload the scanner will not decode: `code` says why, `message` tells the person.

    Shaped like partner_club.errors.DomainError but not one of them, so that
    this module and codes.scan stay plain libraries that import nothing of
    the app (scripts and the benchmark use them on their own); the scanning
    API and pages answer it explicitly.
    """

    def __init__(self, message: str, *, code: str, status: int = 422) -> None:
        self.message = str(message)
        self.code = code
        self.status = status
        super().__init__(self.message)


def accepted_formats() -> frozenset[str]:
    """JPEG, PNG and WebP; HEIC only when a Pillow plugin for it is installed."""
    formats = {"JPEG", "PNG"}
    Image.init()
    if "WEBP" in Image.OPEN:
        formats.add("WEBP")
    if "HEIF" in Image.OPEN:
        formats.add("HEIF")
    return frozenset(formats)


def sniff_format(data: bytes) -> str | None:
    """The image type by its first bytes, or None when it is none we take."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if (
        len(data) >= 12
        and data[4:8] == b"ftyp"
        and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis")
    ):
        return "HEIF"
    return None


def open_image(
    data: bytes, *, max_bytes: int | None = None, max_pixels: int = MAX_IMAGE_PIXELS
) -> Image.Image:
    """Opens an upload lazily (header only) after every check that is cheap.

    Raises ImageRejected with a message for the person; the pixels are not
    decoded yet, so the caller may still ask JPEG for a reduced draft.
    """
    limit = max_bytes or MAX_IMAGE_BYTES
    if not data:
        raise ImageRejected(_l("The file is empty. Take the photo again."), code="empty_file")
    if len(data) > limit:
        raise ImageRejected(
            _l("The photo is too large (at most %(mb)d MB).", mb=limit // (1024 * 1024)),
            code="file_too_large",
            status=413,
        )
    kind = sniff_format(data)
    if kind is None or kind not in accepted_formats():
        raise ImageRejected(
            _l("This file is not a photo. Send a JPEG, PNG or WebP picture."), code="not_an_image", status=415
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(max_pixels) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageRejected(
            _l("The picture cannot be read: the file is damaged or incomplete."), code="damaged_image"
        ) from None
    # Some phones write MPO (a JPEG with extra frames appended): a JPEG all the same.
    if (image.format if image.format != "MPO" else "JPEG") != kind:
        raise ImageRejected(
            _l("This file is not a photo. Send a JPEG, PNG or WebP picture."), code="not_an_image", status=415
        )
    width, height = image.size
    if width < 1 or height < 1 or width * height > max_pixels:
        raise _too_many_pixels(max_pixels)
    return image


def _too_many_pixels(max_pixels: int) -> ImageRejected:
    return ImageRejected(
        _l("The picture is too big (at most %(mp)d megapixels).", mp=max_pixels // 1_000_000),
        code="too_many_pixels",
        status=413,
    )


def load_pixels(image: Image.Image) -> Image.Image:
    """Decodes the pixels, turning a truncated or corrupt file into a clear refusal."""
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ImageRejected(
            _l(
                "The picture is incomplete or damaged (the upload may have been cut off). "
                "Take the photo again."
            ),
            code="truncated_image",
        ) from None
    return image


def without_metadata(data: bytes, *, quality: int = 85, max_side: int | None = None) -> bytes:
    """A JPEG of the upload's pixels, upright, with no EXIF or other metadata."""
    image = load_pixels(open_image(data))
    upright = ImageOps.exif_transpose(image).convert("RGB")
    if max_side and max(upright.size) > max_side:
        upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()
