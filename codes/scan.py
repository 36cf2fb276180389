"""QR decoding of photos: every payload in a picture, in reading order.

zxing-cpp reads the most photos by far, so it goes first (and tries each
picture inverted too, for light-on-dark labels); the slower tries (CLAHE
for poor light, pyzbar, OpenCV, an adaptive threshold, a label unrolled
from a cylinder) only get the pictures it could not read, or a pallet's
face of small codes where one may be missing. Each decoder is wrapped so
that its crash (OpenCV's binding raises UnicodeDecodeError on some
payloads) counts as "nothing found" rather than a failed request.

Speed comes from never decoding more pixels than needed: a JPEG is decoded
straight into a reduced grayscale draft (the DCT scales by 1/2, 1/4, 1/8 for
free), so a 12-megapixel phone photo costs a 1- to 3-megapixel decode. Only
when that finds nothing do we look at the full resolution (small codes far
away) and at an upscaled copy (small, dense codes in a small picture).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp
from PIL import Image, ImageOps
from pyzbar import pyzbar

from codes.uploads import load_pixels, open_image

log = logging.getLogger(__name__)

# Long sides of the passes, cheapest first. A JPEG is decoded at 1/4 or 1/2
# scale for the first two, so a 12 MP photo whose code fills a fair part of
# the frame costs a ~1 MP decode; the full resolution is only for codes that
# are small in a big frame.
PASSES = (1000, 2000, 4096)
# A symbol narrower than this (pixels, in the pass that found it) is small
# enough that others like it may have been missed: the next pass looks too.
SMALL_SYMBOL = 70
# Pictures smaller than this get an upscaled try (dense codes in small frames).
UPSCALE_BELOW = 1000


@dataclass(frozen=True)
class Found:
    """One decoded symbol: its text and where it sits (centre and size, in pixels)."""

    text: str
    x: float
    y: float
    size: float


Decoder = Callable[[np.ndarray], list[Found]]


def read_zxing(gray: np.ndarray, *, downscale: bool = True) -> list[Found]:
    results = zxingcpp.read_barcodes(
        gray,
        formats=zxingcpp.BarcodeFormat.QRCode,
        text_mode=zxingcpp.TextMode.Plain,
        try_rotate=True,
        try_downscale=downscale,
        try_invert=True,  # light-on-dark labels; only retried where nothing was found
    )
    found = []
    for result in results:
        if not result.valid or not result.text:
            continue
        pos = result.position
        xs = (pos.top_left.x, pos.top_right.x, pos.bottom_right.x, pos.bottom_left.x)
        ys = (pos.top_left.y, pos.top_right.y, pos.bottom_right.y, pos.bottom_left.y)
        found.append(_found(result.text, xs, ys))
    return found


def read_pyzbar(gray: np.ndarray) -> list[Found]:
    found = []
    for symbol in pyzbar.decode(gray, symbols=[pyzbar.ZBarSymbol.QRCODE]):
        text = _text(symbol.data)
        if text:
            left, top, width, height = symbol.rect
            found.append(Found(text, left + width / 2, top + height / 2, float(max(width, height))))
    return found


def read_opencv(gray: np.ndarray) -> list[Found]:
    detector = cv2.QRCodeDetector()
    ok, texts, points, _ = detector.detectAndDecodeMulti(gray)
    if not ok or points is None:
        return []
    found = []
    for text, quad in zip(texts, points, strict=False):
        if text:
            found.append(_found(text, quad[:, 0], quad[:, 1]))
    return found


def _read_zxing_as_is(gray: np.ndarray) -> list[Found]:
    return read_zxing(gray, downscale=False)


DECODERS: dict[str, Decoder] = {"zxing": read_zxing, "pyzbar": read_pyzbar, "opencv": read_opencv}


def _found(text: str, xs, ys) -> Found:
    xs, ys = [float(v) for v in xs], [float(v) for v in ys]
    size = max(max(xs) - min(xs), max(ys) - min(ys), 1.0)
    return Found(text, sum(xs) / len(xs), sum(ys) / len(ys), size)


def _text(raw: bytes) -> str:
    # Club links are ASCII; anything else is still shown to the person, so
    # a non-UTF-8 payload degrades to Latin-1 rather than to an exception.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def safely(decoder: Decoder, gray: np.ndarray) -> list[Found]:
    """A decoder's answer, or nothing when the decoder itself fails."""
    try:
        return decoder(gray)
    except Exception:
        log.warning("QR decoder %s failed", getattr(decoder, "__name__", decoder), exc_info=True)
        return []


def grayscale(data: bytes, *, max_side: int = PASSES[1]) -> tuple[np.ndarray, float]:
    """The upload as an upright grayscale array whose long side is at most `max_side`.

    Returns the array and its scale against the original (for positions).
    Raises codes.uploads.ImageRejected for anything that is not a sound image.
    """
    image = open_image(data)
    full_w, full_h = image.size
    ratio = max(full_w, full_h) / max_side
    if image.format in ("JPEG", "MPO"):
        # libjpeg decodes luminance only, and at 1/2, 1/4 or 1/8 scale almost for free.
        k = 8 if ratio >= 8 else 4 if ratio >= 4 else 2 if ratio >= 2 else 1
        image.draft("L", (full_w // k, full_h // k))
    image = load_pixels(image)
    image = ImageOps.exif_transpose(image)
    image = _luminance(image)
    long_side = max(image.size)
    if long_side > max_side:
        factor = max_side / long_side
        image = image.resize(
            (max(1, round(image.width * factor)), max(1, round(image.height * factor))),
            Image.Resampling.BILINEAR,
            reducing_gap=2.0,
        )
    return np.asarray(image), max(image.size) / max(full_w, full_h)


def _luminance(image: Image.Image) -> Image.Image:
    """8-bit grayscale; transparency becomes white paper, deep images are rescaled."""
    if image.mode == "L":
        return image
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        # A QR code saved with a transparent background: its "white" is
        # transparent black, which would vanish into the dark modules.
        paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
        paper.alpha_composite(image.convert("RGBA"))
        return paper.convert("L")
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        values = np.asarray(image, dtype=np.float32)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
        return Image.fromarray(scaled.astype(np.uint8))
    return image.convert("RGB").convert("L")


def find_codes(data: bytes, *, quick: bool = False) -> list[Found]:
    """Every QR symbol in the picture (positions in original pixels), cheap passes first.

    `quick` is for live camera frames, which come several a second and mostly
    hold no code at all: zxing-cpp on the bounded picture only. The next
    frame is the retry.
    """
    found: dict[str, Found] = {}
    tried: list[tuple[np.ndarray, float]] = []
    last_scale = 0.0
    for side in PASSES[:1] if quick else PASSES:
        gray, scale = grayscale(data, max_side=side)
        if scale <= last_scale * 1.01:
            break  # the picture has no more pixels to offer
        last_scale = scale
        # Later passes exist for small codes: zxing's own downscaled tries
        # would only repeat the earlier, smaller passes.
        hits = safely(read_zxing, gray) if not tried else safely(_read_zxing_as_is, gray)
        tried.append((gray, scale))
        _merge(found, hits, scale)
        if hits and min(h.size for h in hits) >= SMALL_SYMBOL:
            break
    if quick:
        return _in_reading_order(list(found.values()))
    if not found and max(tried[-1][0].shape) < UPSCALE_BELOW:
        upscaled = cv2.resize(tried[-1][0], None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
        _merge(found, safely(read_zxing, upscaled), 2 * last_scale)
        tried.append((upscaled, 2 * last_scale))
    # Every try after this point runs only while nothing is found, or while
    # several small symbols are (a pallet's face: a neighbour may be missing).
    for step in _fallbacks(tried):
        if _enough(list(found.values()), tried[0][1]):
            break
        decoder, gray, scale = step()
        _merge(found, safely(decoder, gray), scale)
    return _in_reading_order(list(found.values()))


def _enough(found: list[Found], first_scale: float) -> bool:
    """One symbol, or several that are big in the first pass: nothing more to look for."""
    if not found:
        return False
    return len(found) == 1 or min(f.size for f in found) * first_scale >= SMALL_SYMBOL


def _fallbacks(tried: list[tuple[np.ndarray, float]]):
    """The slower tries, cheapest and likeliest first, each made only when reached.

    Poor light and glare: zxing-cpp on a locally equalised copy (CLAHE) of the
    first two passes. Then pyzbar (a different binariser: it reads blur and
    creased film that zxing-cpp misses) on the first two passes, OpenCV (the
    slowest and weakest) on the first, pyzbar on the equalised copies,
    zxing-cpp on a softened copy (creases and blur), an adaptive threshold
    for uneven light that defeats every decoder's own binariser, the label
    unrolled from a can or a roll (read_uncurved), and last OpenCV on an
    equalised copy (glare on creased film).
    """
    first, second = tried[0], tried[min(1, len(tried) - 1)]
    distinct = [first] if second is first else [first, second]
    for gray, scale in distinct:
        yield lambda gray=gray, scale=scale: (read_zxing, _equalised(gray), scale)
    for gray, scale in distinct:
        yield lambda gray=gray, scale=scale: (read_pyzbar, gray, scale)
    yield lambda: (read_opencv, first[0], first[1])
    for gray, scale in distinct:
        yield lambda gray=gray, scale=scale: (read_pyzbar, _equalised(gray), scale)
    # Creased film and blur together: softening the detailed pass evens out the modules.
    last = distinct[-1]
    yield lambda: (read_zxing, cv2.GaussianBlur(last[0], (0, 0), 1.0), last[1])
    for gray, scale in distinct:
        yield lambda gray=gray, scale=scale: (_read_zxing_as_is, _thresholded(gray), scale)
    yield lambda: (read_uncurved, first[0], first[1])
    # The costliest, for glare on creased film: OpenCV on the detailed equalised pass.
    yield lambda: (read_opencv, _equalised(last[0]), last[1])


# Half-angles (degrees) of a code wrapped round a cylinder, tried in turn.
WRAP_ANGLES = (40, 50, 60)


def read_uncurved(gray: np.ndarray) -> list[Found]:
    """A code on a label wrapped round a can or a roll, flattened again.

    Round a cylinder the modules near the code's sides are squeezed (the
    camera sees x = R sin(s/R) of the arc length s), which no decoder's
    grid model allows for. OpenCV finds the finder patterns even then; the
    region between them is resampled evenly along the arc for a few wrap
    angles, each read by zxing-cpp and pyzbar.
    """
    ok, points = cv2.QRCodeDetector().detect(gray)
    if not ok or points is None:
        return []
    quad = points.reshape(4, 2)
    left, right = float(quad[:, 0].min()), float(quad[:, 0].max())
    top, bottom = float(quad[:, 1].min()), float(quad[:, 1].max())
    half, centre = (right - left) / 2, (right + left) / 2
    if half < 10:
        return []
    margin = 0.15 * (bottom - top)
    rows = np.arange(max(0, int(top - margin)), min(gray.shape[0], int(bottom + margin)), dtype=np.float32)
    for degrees in WRAP_ANGLES:
        angle = math.radians(degrees)
        radius = half / math.sin(angle)
        arc = radius * min(angle * 1.15, math.pi / 2)  # the code and a quiet zone
        s = np.linspace(-arc, arc, max(2, int(2 * arc)), dtype=np.float32)
        columns = (centre + radius * np.sin(s / radius)).astype(np.float32)
        map_x = np.repeat(columns[None, :], len(rows), axis=0)
        map_y = np.repeat(rows[:, None], len(columns), axis=1)
        flat = cv2.remap(gray, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        texts = {f.text for f in safely(read_zxing, flat) or safely(read_pyzbar, flat)}
        if texts:
            size = max(right - left, bottom - top)
            middle = (top + bottom) / 2
            return [Found(text, centre, middle, size) for text in sorted(texts)]
    return []


def _equalised(gray: np.ndarray) -> np.ndarray:
    clahe = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8))
    return clahe.apply(gray)


def _thresholded(gray: np.ndarray) -> np.ndarray:
    # A window of about a module's neighbourhood at the sizes codes appear in a pass.
    block = max(15, (max(gray.shape) // 60) | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 5)


def _merge(found: dict[str, Found], hits: list[Found], scale: float) -> None:
    for hit in hits:
        if hit.text not in found:
            found[hit.text] = Found(hit.text, hit.x / scale, hit.y / scale, hit.size / scale)


def decode_image(data: bytes, *, quick: bool = False) -> list[str]:
    """Every QR payload in the image, de-duplicated, top-to-bottom, left-to-right.

    `quick=True` tries only the fast pass (live camera frames).

    Raises codes.uploads.ImageRejected when the bytes are not an acceptable
    image (empty, too big, not an image, a decompression bomb, truncated).
    """
    seen: set[str] = set()
    texts = []
    for symbol in find_codes(data, quick=quick):
        if symbol.text not in seen:
            seen.add(symbol.text)
            texts.append(symbol.text)
    return texts


def _in_reading_order(found: list[Found]) -> list[Found]:
    """Rows first, then left to right within a row.

    Two symbols share a row when their centres are closer vertically than
    half the smaller one's size; a tilted shelf photo still reads row by row.
    """
    rows: list[list[Found]] = []
    for symbol in sorted(found, key=lambda f: f.y):
        row = rows[-1] if rows else None
        if row is not None and abs(symbol.y - _mean_y(row)) < 0.6 * min(
            symbol.size, min(f.size for f in row)
        ):
            row.append(symbol)
        else:
            rows.append([symbol])
    return [symbol for row in rows for symbol in sorted(row, key=lambda f: f.x)]


def _mean_y(row: list[Found]) -> float:
    return sum(f.y for f in row) / len(row)
