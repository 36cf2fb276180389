"""Print files of a batch: PDF label sheets, and one label as SVG or PNG.

A label is the QR code (the club link `<public URL>/c/<code>`) with the
letter code under it in its display form, so a person without a camera can
type it. The big CSV for packaging printers is written by
`codes.scheme.write_csv`; these files are for small runs.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from codes.scheme import display

MAX_PDF_LABELS = 5000
MONO_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
# The PDF's built-in fonts have no Cyrillic: the vendored DejaVu Sans writes the brand and the instruction.
TEXT_FONT = (
    Path(__file__).resolve().parent.parent / "partner_club/static/vendor/dejavu-fonts-2.37.3/DejaVuSans.ttf"
)


@dataclass(frozen=True)
class LabelText:
    """The brand and one line telling a person what to do with the label."""

    brand: str
    instruction: str  # "Scan with the phone's camera or type the code at club.example"


def _text_font() -> str:
    if "LabelText" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("LabelText", str(TEXT_FONT)))
    return "LabelText"


@dataclass(frozen=True)
class SheetLayout:
    page: tuple[float, float]
    columns: int
    rows: int
    label: tuple[float, float]  # width, height
    margin: tuple[float, float]  # left, top


LAYOUTS = {
    # A4 sheets of 3 x 8 labels of 70 x 37 mm (the common office label sheet).
    "a4": SheetLayout(page=A4, columns=3, rows=8, label=(70 * mm, 37 * mm), margin=(0, 4.5 * mm)),
    # A roll label printer: one 58 x 40 mm label per page.
    "label": SheetLayout(page=(58 * mm, 40 * mm), columns=1, rows=1, label=(58 * mm, 40 * mm), margin=(0, 0)),
}


def _runs(matrix) -> Iterable[tuple[int, int, int]]:
    """(row, first column, length) of each horizontal run of dark modules."""
    for y, row in enumerate(matrix):
        x, width = 0, len(row)
        while x < width:
            if row[x]:
                start = x
                while x < width and row[x]:
                    x += 1
                yield y, start, x - start
            else:
                x += 1


def labels_pdf(
    labels: Iterable[tuple[str, str]], layout_name: str = "a4", text: LabelText | None = None
) -> bytes:
    """A PDF of (code, url) labels laid out on sheets, with the brand and the instruction when given."""
    layout = LAYOUTS[layout_name]
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=layout.page)
    canvas.setTitle("Partner Club labels")
    per_page = layout.columns * layout.rows
    page_width, page_height = layout.page
    label_width, label_height = layout.label
    left = layout.margin[0] or (page_width - layout.columns * label_width) / 2
    index = 0
    for index, (code, url) in enumerate(labels):
        if index and index % per_page == 0:
            canvas.showPage()
        slot = index % per_page
        x = left + (slot % layout.columns) * label_width
        y = page_height - layout.margin[1] - (slot // layout.columns + 1) * label_height
        _draw_label(canvas, code, url, x, y, label_width, label_height, text)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _draw_label(
    canvas: Canvas,
    code: str,
    url: str,
    x: float,
    y: float,
    width: float,
    height: float,
    text: LabelText | None = None,
) -> None:
    qr = segno.make(url, error="m", micro=False)
    matrix = qr.matrix
    size = min(height - 6 * mm, width * 0.5)
    module = size / (len(matrix) + 2)  # two modules of quiet zone around it
    qx, qy = x + 3 * mm, y + (height - size) / 2
    canvas.setFillColorRGB(0, 0, 0)
    for row, column, length in _runs(matrix):
        canvas.rect(
            qx + (column + 1) * module,
            qy + size - (row + 2) * module,
            length * module,
            module,
            stroke=0,
            fill=1,
        )
    text_x = qx + size + 2 * mm
    shown = display(code)
    canvas.setFont("Courier-Bold", 12)
    for line_number, part in enumerate(shown.split("-")):
        canvas.drawString(text_x, y + height / 2 + 5 * mm - line_number * 5.5 * mm, part)
    if text is not None:
        canvas.setFont(_text_font(), 7)
        canvas.drawString(text_x, y + height - 5 * mm, text.brand)
        canvas.setFont(_text_font(), 4.5)
        room = x + width - 2 * mm - text_x
        line, lines = "", []
        for word in text.instruction.split():  # wrapped to the label's text column
            if line and canvas.stringWidth(f"{line} {word}", _text_font(), 4.5) > room:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        lines.append(line)
        for number, part in enumerate(lines[:4]):
            canvas.drawString(text_x, y + height / 2 - 8 * mm - number * 2.2 * mm, part)


def label_svg(code: str, url: str, text: LabelText | None = None) -> str:
    """One label as SVG: the brand, the QR, the display code under it and the instruction."""
    qr = segno.make(url, error="m", micro=False)
    scale, border = 4, 2
    side = qr.symbol_size(scale=scale, border=border)[0]
    text_height = 28
    extra = ""
    if text is not None:
        extra = (
            f'<text x="{side / 2}" y="{side + 40}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" '
            f'font-size="9">{escape(text.instruction)}</text>'
            f'<text x="{side / 2}" y="{side + 54}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" '
            f'font-weight="bold" font-size="11">{escape(text.brand)}</text>'
        )
        text_height = 62
    inline = qr.svg_inline(scale=scale, border=border, dark="#000", light="#fff")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side + text_height}" '
        f'viewBox="0 0 {side} {side + text_height}">'
        f'<rect width="100%" height="100%" fill="#fff"/>{inline}'
        f'<text x="{side / 2}" y="{side + 18}" text-anchor="middle" font-family="DejaVu Sans Mono, monospace" '
        f'font-weight="bold" font-size="14">{escape(display(code))}</text>{extra}</svg>'
    )


def label_png(code: str, url: str, text: LabelText | None = None) -> bytes:
    """One label as PNG (300 dpi-ish): QR on top, the display code under it, then the instruction and brand."""
    qr = segno.make(url, error="m", micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=10, border=2)
    buffer.seek(0)
    qr_image = Image.open(buffer).convert("L")
    width = qr_image.width
    try:
        font = ImageFont.truetype(MONO_FONT, size=max(18, width // 12))
    except OSError:
        font = ImageFont.load_default(size=max(18, width // 12))
    shown = display(code)
    left, top, right, bottom = font.getbbox(shown)
    lines: list[tuple[str, ImageFont.FreeTypeFont | ImageFont.ImageFont]] = []
    if text is not None:
        small = ImageFont.truetype(str(TEXT_FONT), size=max(12, width // 30))
        bold = ImageFont.truetype(str(TEXT_FONT), size=max(14, width // 22))
        lines = [(text.instruction, small), (text.brand, bold)]
    extra = sum(int(f.getbbox(t)[3] - f.getbbox(t)[1]) + 10 for t, f in lines)
    widest = max([right - left + 20] + [int(f.getlength(t)) + 20 for t, f in lines])
    canvas = Image.new("L", (max(width, widest), qr_image.height + bottom - top + 30 + extra), 255)
    canvas.paste(qr_image, ((canvas.width - width) // 2, 0))
    draw = ImageDraw.Draw(canvas)
    draw.text(((canvas.width - (right - left)) // 2, qr_image.height + 5), shown, font=font, fill=0)
    y = qr_image.height + bottom - top + 20
    for line, line_font in lines:
        draw.text(((canvas.width - line_font.getlength(line)) // 2, y), line, font=line_font, fill=0)
        y += int(line_font.getbbox(line)[3] - line_font.getbbox(line)[1]) + 10
    out = io.BytesIO()
    canvas.save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()
