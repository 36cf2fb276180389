"""Builds the installable app's PNG icons (192, 512 and a maskable 512) from the club's logo.

    python tools/build_app_icons.py

The drawing follows partner_club/static/brand/logo.svg (a blue tile, a white roof of two
peaks, an orange dot); the maskable icon keeps it inside the safe circle (80 % of the side)
on a full-bleed blue, so a phone may cut it to any shape.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "partner_club" / "static" / "brand"
BLUE, WHITE, ORANGE = (11, 92, 171), (255, 255, 255), (242, 153, 0)


def draw(side: int, *, maskable: bool) -> Image.Image:
    scale = 4  # drawn large and shrunk: smooth edges
    big = side * scale
    image = Image.new("RGBA", (big, big), BLUE if maskable else (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    inner = 0.8 if maskable else 1.0
    offset = big * (1 - inner) / 2
    unit = big * inner / 64  # the logo's viewBox is 64 wide

    def at(x: float, y: float) -> tuple[float, float]:
        return offset + x * unit, offset + y * unit

    if not maskable:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=14 * unit, fill=BLUE)
    pen.polygon([at(14, 40), at(26, 22), at(32, 31), at(38, 22), at(50, 40)], fill=WHITE)
    cx, cy = at(32, 46)
    pen.ellipse((cx - 5 * unit, cy - 5 * unit, cx + 5 * unit, cy + 5 * unit), fill=ORANGE)
    return image.resize((side, side), Image.LANCZOS)


def main() -> None:
    for name, side, maskable in (
        ("icon-192.png", 192, False),
        ("icon-512.png", 512, False),
        ("icon-maskable-512.png", 512, True),
    ):
        draw(side, maskable=maskable).save(OUT / name, optimize=True)
        print(OUT / name)


if __name__ == "__main__":
    main()
