"""Print files a phone camera can read."""

from __future__ import annotations

from codes.printing import label_png, label_svg, labels_pdf
from codes.scan import decode_image
from codes.scheme import CodeScheme, display, parse_keys

SCHEME = CodeScheme(parse_keys("1:" + "a1" * 32))


def test_a_png_label_holds_the_club_link_and_the_display_code():
    code = SCHEME.encode(3, 17)
    url = "https://club.example.ru/c/" + code
    assert decode_image(label_png(code, url)) == [url]
    assert display(code) in label_svg(code, url)


def test_a_label_sheet_has_a_page_per_24_labels():
    labels = [(SCHEME.encode(3, s), "https://club.example.ru/c/" + SCHEME.encode(3, s)) for s in range(1, 50)]
    pdf = labels_pdf(labels, "a4")
    assert pdf.startswith(b"%PDF") and b"/Count 3" in pdf  # 49 labels: 24 + 24 + 1
    roll = labels_pdf(labels[:3], "label")
    assert roll.startswith(b"%PDF") and b"/Count 3" in roll  # one label a page
