"""Renders the club's own labels and "photographs" them the way phones do.

    .venv/bin/python tools/make_scan_testset.py [--out build/scanset] [--per-condition 10] [--seed 7]

Each label carries the QR link PUBLIC_URL/c/<code> and the code in letters,
like the printed packages. Each picture is one condition a seller meets:
a skewed angle, a shaky hand, a shop lamp's glare, a dim warehouse, a
curved can, a shelf of several packages, a code far away in a 12-megapixel
frame, a heavily compressed JPEG, a phone held sideways (pixels rotated and
an EXIF orientation tag saying so), a reduced live-camera frame. Everything
follows one seed, so the same command always writes the same files.
`labels.json` lists the payloads each picture holds, in reading order.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

try:  # the codes package's scheme, when it is there, makes the check symbol real
    from codes.scheme import ALPHABET, check_symbol, display
except ImportError:  # pragma: no cover - only before the scheme landed
    ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

    def check_symbol(data: str) -> str:
        return ALPHABET[sum((i + 1) * ALPHABET.index(c) for i, c in enumerate(data)) % 32]

    def display(code: str) -> str:
        return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


PHONE = (4000, 3000)  # a 12-megapixel photo
FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
PRODUCTS = ("Brick adhesive 25 kg", "Tile grout 5 kg", "Primer 10 l", "Plaster 30 kg", "Sealant 0.3 l")


def make_code(rng: np.random.Generator) -> str:
    data = "".join(ALPHABET[i] for i in rng.integers(0, 32, size=12))
    return data + check_symbol(data)


def _font(size: int) -> ImageFont.FreeTypeFont:
    for path in FONT_PATHS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def render_label(payload: str, code: str, rng: np.random.Generator, width: int = 600) -> np.ndarray:
    """A printed package label (RGB): product name, QR code, the code in letters."""
    qr = segno.make(payload, error="m", boost_error=False)
    quiet = 4
    modules = qr.symbol_size(scale=1, border=quiet)[0]
    scale = max(1, int(width * 0.8) // modules)
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=scale, border=quiet)
    qr_img = Image.open(buf).convert("RGB")
    height = qr_img.height + int(width * 0.38)
    paper = tuple(int(v) for v in rng.integers(225, 256, size=3))
    label = Image.new("RGB", (width, height), paper)
    draw = ImageDraw.Draw(label)
    draw.text(
        (width // 2, int(width * 0.05)),
        PRODUCTS[int(rng.integers(len(PRODUCTS)))],
        fill=(30, 30, 30),
        font=_font(int(width * 0.06)),
        anchor="mt",
    )
    top = int(width * 0.14)
    label.paste(qr_img, ((width - qr_img.width) // 2, top))
    draw.text(
        (width // 2, top + qr_img.height + int(width * 0.04)),
        display(code),
        fill=(10, 10, 10),
        font=_font(int(width * 0.075)),
        anchor="mt",
    )
    return np.asarray(label)


# --- the scene ------------------------------------------------------------


def background(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Cardboard, shelf or counter: a colour, soft blotches and some boxes."""
    w, h = size
    base = rng.integers(60, 200, size=3)
    small = rng.normal(0, 18, size=(max(2, h // 200), max(2, w // 200), 3))
    texture = cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    scene = np.clip(base + texture, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(2, 6))):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(w // 10, w // 2)), y0 + int(rng.integers(h // 10, h // 2))
        colour = tuple(int(v) for v in rng.integers(30, 230, size=3))
        cv2.rectangle(scene, (x0, y0), (x1, y1), colour, thickness=-1)
    return scene


def paste(scene: np.ndarray, label: np.ndarray, quad: np.ndarray) -> None:
    """Warps the label onto the quadrilateral `quad` (TL, TR, BR, BL) of the scene."""
    h, w = label.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    matrix = cv2.getPerspectiveTransform(src, np.float32(quad))
    x0, y0 = np.floor(quad.min(axis=0)).astype(int)
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int)
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, scene.shape[1]), min(y1, scene.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], dtype=np.float64)
    local = shift @ matrix
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpPerspective(label, local, size, flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), local, size, flags=cv2.INTER_LINEAR)
    region = scene[y0:y1, x0:x1]
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    region[:] = (warped * alpha + region * (1 - alpha)).astype(np.uint8)


def label_quad(
    rng: np.random.Generator,
    centre: tuple[float, float],
    width: float,
    aspect: float,
    *,
    tilt: float = 0.0,
    angle: float = 0.0,
) -> np.ndarray:
    """Corners of a label seen at an angle: in-plane rotation plus a perspective squeeze."""
    cx, cy = centre
    hw, hh = width / 2, width * aspect / 2
    # A tilt shortens one side, as a label turned away from the camera does.
    near, far = 1 + tilt / 2, 1 - tilt / 2
    if rng.random() < 0.5:
        corners = np.array([[-hw * far, -hh], [hw * far, -hh], [hw * near, hh], [-hw * near, hh]])
    else:
        corners = np.array([[-hw, -hh * far], [hw, -hh * near], [hw, hh * near], [-hw, hh * far]])
    corners += rng.normal(0, width * 0.01, size=corners.shape)
    theta = math.radians(angle)
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    return corners @ rot.T + np.array([cx, cy])


def cylinder(label: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The label wrapped round a can or a sack, as the camera sees it."""
    h, w = label.shape[:2]
    half_angle = math.radians(float(rng.uniform(45, 70)))
    radius = (w / 2) / half_angle
    out_w = int(2 * radius * math.sin(half_angle))
    lift = float(rng.uniform(0.02, 0.08)) * h  # seen from slightly above: edges bow
    out_h = int(h + lift) + 2
    u = np.arange(out_w, dtype=np.float32) - out_w / 2
    phi = np.arcsin(np.clip(u / radius, -1, 1))
    src_x = (w / 2 + radius * phi).astype(np.float32)
    map_x = np.repeat(src_x[None, :], out_h, axis=0)
    bow = (lift * (1 - np.cos(phi))).astype(np.float32)
    v = np.arange(out_h, dtype=np.float32)[:, None]
    map_y = v - bow[None, :]
    wrapped = cv2.remap(
        label, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(90, 90, 90)
    )
    shade = (0.55 + 0.45 * np.cos(phi)).astype(np.float32)[None, :, None]
    return np.clip(wrapped * shade, 0, 255).astype(np.uint8)


# --- the camera -----------------------------------------------------------


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(img, (0, 0), sigma) if sigma > 0.3 else img


def motion_blur(img: np.ndarray, length: int, angle: float) -> np.ndarray:
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    kernel = cv2.warpAffine(kernel, rot, (length, length))
    return cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6))


def glare(
    img: np.ndarray, rng: np.random.Generator, centre: tuple[float, float], radius: float
) -> np.ndarray:
    h, w = img.shape[:2]
    small = 8  # work at 1/8 size: the highlight is smooth anyway
    yy, xx = np.mgrid[0 : h // small, 0 : w // small].astype(np.float32)
    cx, cy = centre[0] / small, centre[1] / small
    r = radius / small
    stretch = float(rng.uniform(0.4, 1.0))
    spot = np.exp(-(((xx - cx) / r) ** 2 + ((yy - cy) / (r * stretch)) ** 2))
    spot = cv2.resize(spot, (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
    strength = float(rng.uniform(140, 255))
    return np.clip(img + spot * strength, 0, 255).astype(np.uint8)


def lighting(img: np.ndarray, gain: float, gradient: float, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape[:2]
    ramp = np.linspace(1 - gradient, 1 + gradient, w if rng.random() < 0.5 else h, dtype=np.float32)
    ramp = ramp[None, :, None] if ramp.shape[0] == w else ramp[:, None, None]
    return np.clip(img * (gain * ramp), 0, 255).astype(np.uint8)


def noise(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    if sigma <= 0:
        return img
    grain = np.empty(img.shape, np.int16)
    cv2.setRNGSeed(int(rng.integers(2**31)))  # OpenCV's own generator, seeded from ours
    cv2.randn(grain, 0, sigma)
    return np.clip(img.astype(np.int16) + grain, 0, 255).astype(np.uint8)


def jpeg(img: np.ndarray, quality: int, orientation: int = 1) -> bytes:
    pil = Image.fromarray(img)
    out = io.BytesIO()
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        pil.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    else:
        pil.save(out, "JPEG", quality=quality)
    return out.getvalue()


# Stored pixels for an EXIF orientation: exif_transpose() turns them upright again.
STORED_FOR_ORIENTATION = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


# --- the conditions -------------------------------------------------------


class Shot:
    """One picture being composed: a scene and the payloads placed on it."""

    def __init__(self, rng: np.random.Generator, size: tuple[int, int], public_url: str) -> None:
        self.rng, self.size, self.public_url = rng, size, public_url
        self.scene = background(rng, size)
        self.placed: list[tuple[int, float, float, str]] = []  # row, x, y, payload

    def label(
        self,
        *,
        width_frac: float,
        centre: tuple[float, float] | None = None,
        tilt: float = 0.0,
        angle: float = 0.0,
        curved: bool = False,
        row: int = 0,
    ) -> tuple[float, float, float]:
        code = make_code(self.rng)
        payload = f"{self.public_url}/c/{code}"
        w, h = self.size
        art = render_label(payload, code, self.rng, width=int(self.rng.integers(500, 700)))
        if curved:
            art = cylinder(art, self.rng)
        width = width_frac * w
        aspect = art.shape[0] / art.shape[1]
        if centre is None:
            margin_x, margin_y = width * 0.75, width * aspect * 0.75
            centre = (
                float(self.rng.uniform(margin_x, w - margin_x)),
                float(self.rng.uniform(margin_y, max(margin_y + 1, h - margin_y))),
            )
        paste(self.scene, art, label_quad(self.rng, centre, width, aspect, tilt=tilt, angle=angle))
        self.placed.append((row, centre[0], centre[1], payload))
        return centre[0], centre[1], width

    def expected(self) -> list[str]:
        return [p for _, _, _, p in sorted(self.placed, key=lambda t: (t[0], t[1]))]

    def camera(self, *, sigma: float = 0.8, grain: float = 3.0) -> None:
        self.scene = noise(gaussian_blur(self.scene, sigma), grain, self.rng)


def c_clean(s: Shot) -> None:
    s.label(width_frac=s.rng.uniform(0.18, 0.35), angle=s.rng.uniform(-8, 8))
    s.camera()


def c_perspective(s: Shot) -> None:
    s.label(width_frac=s.rng.uniform(0.2, 0.35), tilt=s.rng.uniform(0.35, 0.8), angle=s.rng.uniform(-60, 60))
    s.camera()


def c_blur(s: Shot) -> None:
    s.label(width_frac=s.rng.uniform(0.22, 0.35), angle=s.rng.uniform(-10, 10))
    scale = s.size[0] / 4000
    if s.rng.random() < 0.5:
        s.scene = gaussian_blur(s.scene, s.rng.uniform(3.0, 9.0) * scale)
    else:
        s.scene = motion_blur(s.scene, max(3, int(s.rng.uniform(12, 40) * scale)), s.rng.uniform(0, 180))
    s.camera(sigma=0)


def c_glare(s: Shot) -> None:
    x, y, width = s.label(width_frac=s.rng.uniform(0.22, 0.35), angle=s.rng.uniform(-10, 10))
    offset = s.rng.uniform(0.15, 0.4) * width
    direction = s.rng.uniform(0, 2 * math.pi)
    s.scene = glare(
        s.scene,
        s.rng,
        (x + offset * math.cos(direction), y + offset * math.sin(direction)),
        radius=width * s.rng.uniform(0.12, 0.3),
    )
    s.camera()


def c_low_light(s: Shot) -> None:
    s.label(width_frac=s.rng.uniform(0.2, 0.35), angle=s.rng.uniform(-10, 10))
    s.scene = lighting(s.scene, s.rng.uniform(0.07, 0.25), s.rng.uniform(0.1, 0.4), s.rng)
    s.camera(sigma=1.2, grain=s.rng.uniform(5, 9))


def c_curved(s: Shot) -> None:
    s.label(
        width_frac=s.rng.uniform(0.22, 0.35),
        curved=True,
        tilt=s.rng.uniform(0, 0.2),
        angle=s.rng.uniform(-8, 8),
    )
    s.camera()


def c_shelf(s: Shot) -> None:
    """Two rows of packages side by side, the photo slightly skewed."""
    w, h = s.size
    cols, rows = int(s.rng.integers(2, 4)), 2
    cell_w, cell_h = w / cols, h / rows
    skew = s.rng.uniform(-3, 3)
    for r in range(rows):
        for c in range(cols):
            centre = (
                (c + 0.5) * cell_w + s.rng.uniform(-0.08, 0.08) * cell_w,
                (r + 0.5) * cell_h + s.rng.uniform(-0.06, 0.06) * cell_h,
            )
            s.label(
                width_frac=min(0.6 / cols, 0.6 * cell_h / w),
                centre=centre,
                tilt=s.rng.uniform(0, 0.2),
                angle=skew + s.rng.uniform(-3, 3),
                row=r,
            )
    s.camera()


def c_small(s: Shot) -> None:
    s.label(width_frac=s.rng.uniform(0.05, 0.1), angle=s.rng.uniform(-10, 10))
    s.camera(sigma=0.6)


def c_rotated_exif(s: Shot) -> None:
    """Two packages side by side; the phone stores the pixels turned and says so in EXIF."""
    w, h = s.size
    for i in range(2):
        s.label(
            width_frac=0.22,
            centre=((0.27 + 0.46 * i) * w, h / 2 + s.rng.uniform(-0.05, 0.05) * h),
            angle=s.rng.uniform(-6, 6),
        )
    s.camera()


def c_frame(s: Shot) -> None:
    """A reduced frame of the live camera, as the scanner page sends it."""
    s.label(width_frac=s.rng.uniform(0.3, 0.5), tilt=s.rng.uniform(0, 0.3), angle=s.rng.uniform(-20, 20))
    s.scene = motion_blur(s.scene, int(s.rng.integers(2, 5)), s.rng.uniform(0, 180))
    s.camera(sigma=0.5, grain=4)


def c_combined(s: Shot) -> None:
    """Everything at once, mildly: a tilted label, a dim shop, a shaky hand, sometimes a lamp."""
    x, y, width = s.label(
        width_frac=s.rng.uniform(0.15, 0.3),
        tilt=s.rng.uniform(0.2, 0.5),
        angle=s.rng.uniform(-30, 30),
        curved=bool(s.rng.random() < 0.3),
    )
    if s.rng.random() < 0.5:
        s.scene = glare(
            s.scene, s.rng, (x + width * 0.3, y - width * 0.2), radius=width * s.rng.uniform(0.08, 0.15)
        )
    s.scene = lighting(s.scene, s.rng.uniform(0.25, 0.6), s.rng.uniform(0.1, 0.3), s.rng)
    scale = s.size[0] / 4000
    s.scene = motion_blur(s.scene, max(3, int(s.rng.uniform(6, 16) * scale)), s.rng.uniform(0, 180))
    s.camera(sigma=0.8, grain=s.rng.uniform(3, 6))


def c_crowd(s: Shot) -> None:
    """A pallet face from a few steps back: eight or nine small labels in three rows."""
    w, h = s.size
    cols = rows = 3
    for r in range(rows):
        for c in range(cols):
            if s.rng.random() < 0.1 and len(s.placed) >= 7:
                continue
            centre = (
                (c + 0.5) * w / cols + s.rng.uniform(-0.05, 0.05) * w / cols,
                (r + 0.5) * h / rows + s.rng.uniform(-0.04, 0.04) * h / rows,
            )
            s.label(
                width_frac=s.rng.uniform(0.1, 0.13),
                centre=centre,
                tilt=s.rng.uniform(0, 0.15),
                angle=s.rng.uniform(-5, 5),
                row=r,
            )
    s.camera()


# name -> (compose, picture size, JPEG quality range)
CONDITIONS: dict[str, tuple[Callable[[Shot], None], tuple[int, int], tuple[int, int]]] = {
    "clean": (c_clean, PHONE, (85, 95)),
    "perspective": (c_perspective, PHONE, (85, 95)),
    "blur": (c_blur, PHONE, (85, 95)),
    "glare": (c_glare, PHONE, (85, 95)),
    "low_light": (c_low_light, PHONE, (80, 92)),
    "curved": (c_curved, PHONE, (85, 95)),
    "shelf": (c_shelf, PHONE, (85, 95)),
    "small_far": (c_small, PHONE, (88, 95)),
    "rotated_exif": (c_rotated_exif, PHONE, (85, 95)),
    "jpeg_low": (c_clean, (1600, 1200), (25, 45)),
    "frame": (c_frame, (640, 480), (60, 80)),
    "combined": (c_combined, PHONE, (70, 88)),
    "crowd": (c_crowd, PHONE, (85, 95)),
}


def build(
    out: Path,
    *,
    per_condition: int = 10,
    seed: int = 7,
    public_url: str = "https://club.example.ru",
    conditions: list[str] | None = None,
    scale: float = 1.0,
) -> dict:
    """Writes the pictures and labels.json into `out`; returns the labels.

    `scale` shrinks every picture (tests use small ones to stay fast).
    """
    out.mkdir(parents=True, exist_ok=True)
    names = conditions or list(CONDITIONS)
    images = []
    for name in names:
        compose, size, (q_low, q_high) = CONDITIONS[name]
        for index in range(per_condition):
            # One generator per picture: adding a condition never changes the others.
            rng = np.random.default_rng([seed, list(CONDITIONS).index(name), index])
            shot_size = (int(size[0] * scale), int(size[1] * scale))
            shot = Shot(rng, shot_size, public_url)
            compose(shot)
            orientation = 1
            pixels = shot.scene
            if name == "rotated_exif":
                orientation = (6, 8, 3)[index % 3]
                pixels = np.asarray(Image.fromarray(pixels).transpose(STORED_FOR_ORIENTATION[orientation]))
            file = f"{name}-{index:03d}.jpg"
            (out / file).write_bytes(jpeg(pixels, int(rng.integers(q_low, q_high + 1)), orientation))
            images.append(
                {
                    "file": file,
                    "condition": name,
                    "expected": shot.expected(),
                    "width": shot_size[0],
                    "height": shot_size[1],
                }
            )
    labels = {
        "seed": seed,
        "public_url": public_url,
        "per_condition": per_condition,
        "scale": scale,
        "images": images,
    }
    (out / "labels.json").write_text(json.dumps(labels, indent=1), encoding="utf-8")
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "scanset")
    parser.add_argument("--per-condition", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--public-url", default="https://club.example.ru")
    parser.add_argument("--only", nargs="*", choices=list(CONDITIONS), help="just these conditions")
    args = parser.parse_args()
    labels = build(
        args.out,
        per_condition=args.per_condition,
        seed=args.seed,
        public_url=args.public_url,
        conditions=args.only,
    )
    print(f"{len(labels['images'])} pictures in {args.out}")


if __name__ == "__main__":
    main()
