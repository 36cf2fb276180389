"""Prints the club's own labels and "photographs" them the way phones do.

    .venv/bin/python tools/make_scan_testset.py [--out build/scanset] [--per-condition 10] [--seed 7]

Each label is the one the club prints (codes.printing.label_png): the QR link
PUBLIC_URL/c/<code> of a real code of the scheme (under a seeded key), the
code in letters, the instruction and the brand. Each picture is one condition
a seller meets: a skewed angle, a shaky hand or a missed focus, a shop lamp's
glare, a dim warehouse, a label round a can or a roll, wrinkled glossy film,
light-on-dark printing, a code turned any way, a shelf or a pallet's face of
several labels, a code far away in a 12-megapixel frame, a heavily
compressed JPEG, a phone held sideways (pixels rotated and an EXIF
orientation tag saying so), a reduced live-camera frame. Everything follows
one seed, so the same command always writes the same files.
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
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from codes.printing import LabelText, label_png  # noqa: E402
from codes.scheme import MAX_BATCH, MAX_SERIAL, CodeScheme  # noqa: E402

PHONE = (4000, 3000)  # a 12-megapixel photo
LABEL_TEXT = LabelText(
    brand="Partner Club", instruction="Scan with the phone's camera or type the code at club.example.ru"
)


def make_code(rng: np.random.Generator) -> str:
    """A real club code: the scheme's encryption of a batch and serial, under a seeded key."""
    scheme = CodeScheme({1: bytes(int(v) for v in rng.integers(0, 256, size=16))})
    return scheme.encode(int(rng.integers(1, MAX_BATCH)), int(rng.integers(1, MAX_SERIAL)))


def render_label(payload: str, code: str, rng: np.random.Generator, width: int = 600) -> np.ndarray:
    """The club's printed label (codes.printing.label_png) on slightly tinted paper, as RGB.

    `width` is only a hint kept for callers: the label is printed at its own size.
    """
    printed = Image.open(io.BytesIO(label_png(code, payload, LABEL_TEXT))).convert("L")
    ink = np.asarray(printed, dtype=np.float32)[..., None] / 255.0
    paper = rng.integers(225, 256, size=3).astype(np.float32)
    dark = rng.integers(0, 35, size=3).astype(np.float32)
    return (dark + (paper - dark) * ink).astype(np.uint8)


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


def wrinkled_film(label: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The label under creased, glossy shrink film: the print shifts along the folds and the
    film throws narrow highlights where a fold faces the lamp."""
    h, w = label.shape[:2]
    module = 10.0  # codes.printing prints 10 pixels a module
    # A height field of a few folds across the label, mostly running one way (film is stretched).
    folds = int(rng.integers(3, 8))
    coarse = rng.normal(0, 1, size=(max(2, folds // 2), folds)).astype(np.float32)
    if rng.random() < 0.5:
        coarse = coarse.T.copy()
    height = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    height = cv2.GaussianBlur(height, (0, 0), w / 40)
    height /= max(float(np.abs(height).max()), 1e-6)
    gy, gx = np.gradient(height)
    slope = max(float(np.abs(np.stack([gx, gy])).max()), 1e-9)
    # Where the film bends, the print under it appears shifted by up to ~0.6 of a module.
    amplitude = float(rng.uniform(0.25, 0.6)) * module
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x = xx + (gx / slope * amplitude).astype(np.float32)
    map_y = yy + (gy / slope * amplitude).astype(np.float32)
    shifted = cv2.remap(label, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # Specular highlight: Blinn-Phong on the folds' normals, lamp somewhere above.
    light = np.array([rng.uniform(-0.6, 0.6), rng.uniform(-0.6, 0.6), 1.0])
    light /= np.linalg.norm(light)
    bend = float(rng.uniform(6, 14))
    nx, ny, nz = -gx / slope, -gy / slope, np.full_like(gx, 1.0 / bend * 10)
    norm = np.sqrt(nx**2 + ny**2 + nz**2)
    half = (light + np.array([0, 0, 1.0])) / np.linalg.norm(light + np.array([0, 0, 1.0]))
    cos = np.clip((nx * half[0] + ny * half[1] + nz * half[2]) / norm, 0, 1)
    shine = (cos ** float(rng.uniform(40, 120)) * float(rng.uniform(120, 230)))[..., None]
    sheen = float(rng.uniform(5, 25))  # the film's overall haze
    return np.clip(shifted * (1 - sheen / 255) + sheen + shine, 0, 255).astype(np.uint8)


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
        wrinkled: bool = False,
        inverted: bool = False,
        row: int = 0,
    ) -> tuple[float, float, float]:
        code = make_code(self.rng)
        payload = f"{self.public_url}/c/{code}"
        w, h = self.size
        art = render_label(payload, code, self.rng, width=int(self.rng.integers(500, 700)))
        if inverted:  # light-on-dark printing: pale ink on a dark label
            art = (255 - art).astype(np.uint8)
        if wrinkled:
            art = wrinkled_film(art, self.rng)
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


def c_blur_motion(s: Shot) -> None:
    """A shaky hand: the label smeared along one direction."""
    s.label(width_frac=s.rng.uniform(0.22, 0.35), angle=s.rng.uniform(-10, 10))
    scale = s.size[0] / 4000
    s.scene = motion_blur(s.scene, max(3, int(s.rng.uniform(12, 40) * scale)), s.rng.uniform(0, 180))
    s.camera(sigma=0)


def c_blur_defocus(s: Shot) -> None:
    """The phone focused on the background: the label soft all over."""
    s.label(width_frac=s.rng.uniform(0.22, 0.35), angle=s.rng.uniform(-10, 10))
    s.scene = gaussian_blur(s.scene, s.rng.uniform(3.0, 9.0) * s.size[0] / 4000)
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


def c_wrinkled(s: Shot) -> None:
    """A label under creased glossy film on a roll of insulation, a lamp overhead."""
    x, y, width = s.label(width_frac=s.rng.uniform(0.2, 0.32), wrinkled=True, angle=s.rng.uniform(-15, 15))
    if s.rng.random() < 0.5:  # and sometimes the lamp's broad reflection too
        s.scene = glare(
            s.scene, s.rng, (x + width * s.rng.uniform(-0.4, 0.4), y), radius=width * s.rng.uniform(0.08, 0.2)
        )
    s.camera()


def c_curved_film(s: Shot) -> None:
    """A label round a roll, under wrinkled film: the curve and the creases together."""
    s.label(width_frac=s.rng.uniform(0.22, 0.32), curved=True, wrinkled=True, angle=s.rng.uniform(-8, 8))
    s.camera()


def c_inverted(s: Shot) -> None:
    """Light-on-dark printing: pale modules on a dark label."""
    s.label(width_frac=s.rng.uniform(0.18, 0.33), inverted=True, angle=s.rng.uniform(-20, 20))
    s.camera()


def c_rotated(s: Shot) -> None:
    """A smallish label at any angle: the package lies on its side or upside down."""
    s.label(width_frac=s.rng.uniform(0.08, 0.2), angle=s.rng.uniform(0, 360), tilt=s.rng.uniform(0, 0.3))
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
    "blur_motion": (c_blur_motion, PHONE, (85, 95)),
    "blur_defocus": (c_blur_defocus, PHONE, (85, 95)),
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
    "wrinkled": (c_wrinkled, PHONE, (85, 95)),
    "curved_film": (c_curved_film, PHONE, (85, 95)),
    "inverted": (c_inverted, PHONE, (85, 95)),
    "rotated": (c_rotated, PHONE, (85, 95)),
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
