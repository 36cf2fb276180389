"""The QR decoder and the upload checks, on the club's own generated labels."""

from __future__ import annotations

import io
import json
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import segno
from PIL import Image

from codes import scan
from codes.scheme import check_symbol
from codes.uploads import ImageRejected, open_image, without_metadata

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import make_scan_testset

PUBLIC_URL = "https://club.example.ru"


@pytest.fixture(scope="module")
def scanset(tmp_path_factory) -> tuple[Path, dict]:
    """Two pictures of every condition, at half size to keep the suite quick."""
    folder = tmp_path_factory.mktemp("scanset")
    labels = make_scan_testset.build(folder, per_condition=2, seed=11, public_url=PUBLIC_URL, scale=0.5)
    return folder, labels


def qr_png(text: str | bytes, *, scale: int = 8, border: int = 4) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m", boost_error=False).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


@pytest.mark.parametrize("condition", list(make_scan_testset.CONDITIONS))
def test_every_condition_is_read_with_exact_payloads(scanset, condition):
    folder, labels = scanset
    pictures = [i for i in labels["images"] if i["condition"] == condition]
    assert pictures
    for item in pictures:
        assert scan.decode_image((folder / item["file"]).read_bytes()) == item["expected"], item["file"]


def test_every_label_on_a_pallets_face_is_found_in_reading_order(scanset):
    folder, labels = scanset
    faces = [i for i in labels["images"] if i["condition"] in ("shelf", "crowd")]
    assert faces and all(len(i["expected"]) >= 4 for i in faces)
    assert any(len(i["expected"]) >= 7 for i in faces)
    for item in faces:
        assert scan.decode_image((folder / item["file"]).read_bytes()) == item["expected"]


def test_light_on_dark_labels_need_the_inverted_try(scanset):
    folder, labels = scanset
    for item in (i for i in labels["images"] if i["condition"] == "inverted"):
        gray, _ = scan.grayscale((folder / item["file"]).read_bytes())
        assert scan.read_pyzbar(gray) == []  # not readable as printed: only inverted
        assert scan.decode_image((folder / item["file"]).read_bytes()) == item["expected"]


def test_exif_orientation_is_honoured(scanset):
    folder, labels = scanset
    turned = [i for i in labels["images"] if i["condition"] == "rotated_exif"]
    for item in turned:
        data = (folder / item["file"]).read_bytes()
        assert Image.open(io.BytesIO(data)).getexif().get(0x0112) in (3, 6, 8)
        # Left to right as the person saw it, not as the sensor stored it.
        assert scan.decode_image(data) == item["expected"]


def test_labels_carry_club_links_with_valid_codes(scanset):
    _, labels = scanset
    payload = labels["images"][0]["expected"][0]
    assert payload.startswith(PUBLIC_URL + "/c/")
    code = payload.rsplit("/", 1)[1]
    assert len(code) == 13 and check_symbol(code[:12]) == code[12]


def test_a_small_dense_code_is_read_through_the_upscaled_copy():
    text = PUBLIC_URL + "/c/" + "7" * 13 + "?" + "x" * 120  # a dense version-8 symbol
    png = qr_png(text, scale=2, border=2)
    assert max(Image.open(io.BytesIO(png)).size) < scan.UPSCALE_BELOW
    assert scan.decode_image(png) == [text]


def test_duplicates_are_reported_once():
    one = Image.open(io.BytesIO(qr_png(PUBLIC_URL + "/c/AAAA"))).convert("L")
    twice = Image.new("L", (one.width * 2 + 40, one.height), 255)
    twice.paste(one, (0, 0))
    twice.paste(one, (one.width + 40, 0))
    out = io.BytesIO()
    twice.save(out, "PNG")
    assert scan.decode_image(out.getvalue()) == [PUBLIC_URL + "/c/AAAA"]


def test_a_non_utf8_payload_does_not_crash_the_decoder():
    decoded = scan.decode_image(qr_png(b"\xff\xfe\xfa club \x80\x81"))
    assert len(decoded) == 1 and "club" in decoded[0]


def test_a_crashing_decoder_counts_as_nothing_found():
    def broken(_gray):
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

    assert scan.safely(broken, Image.new("L", (10, 10))) == []


def test_a_photo_without_a_code_gives_an_empty_list():
    """A scene with boxes, grain and a label whose QR code was torn off: "no code found"."""
    rng = np.random.default_rng(5)
    shot = make_scan_testset.Shot(rng, (1600, 1200), PUBLIC_URL)
    label = make_scan_testset.render_label(PUBLIC_URL + "/c/X", "0" * 13, rng)
    torn = label.copy()
    torn[: int(label.shape[0] * 0.7)] = 230  # only the letters are left
    make_scan_testset.paste(
        shot.scene, torn, make_scan_testset.label_quad(rng, (800, 600), 400, label.shape[0] / label.shape[1])
    )
    shot.camera()
    data = make_scan_testset.jpeg(shot.scene, 90)
    assert scan.decode_image(data) == []
    assert scan.find_codes(data) == []


# --- upload checks -------------------------------------------------------------


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims a huge size: a decompression bomb's header."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty_file"),
        (b"%PDF-1.7 not a photo at all", "not_an_image"),
        (b"GIF89a" + b"\0" * 100, "not_an_image"),
        (png_header_only(20000, 20000), "too_many_pixels"),  # Pillow's own bomb guard
        (png_header_only(8000, 7500), "too_many_pixels"),  # ours: 60 MP, under Pillow's guard
        (b"\xff\xd8\xff\xe0 garbage that only starts like a JPEG", "damaged_image"),
    ],
)
def test_bad_uploads_are_refused_before_decoding(data, reason):
    with pytest.raises(ImageRejected) as refused:
        scan.decode_image(data)
    assert refused.value.code == reason


def test_a_truncated_jpeg_is_answered_clearly():
    image = Image.effect_noise((1200, 900), 60).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    with pytest.raises(ImageRejected) as refused:
        scan.decode_image(out.getvalue()[: len(out.getvalue()) // 2])
    assert refused.value.code == "truncated_image"


def test_an_oversized_file_is_refused_by_its_length():
    with pytest.raises(ImageRejected) as refused:
        open_image(b"\xff\xd8\xff" + b"\0" * 2048, max_bytes=1024)
    assert refused.value.code == "file_too_large"


def test_a_kept_copy_has_no_exif():
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhoneMaker"  # camera make; GPS would sit beside it
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 10, 10)).save(out, "JPEG", exif=exif.tobytes())
    clean = without_metadata(out.getvalue())
    kept = Image.open(io.BytesIO(clean))
    assert not kept.getexif() and "exif" not in kept.info
    assert kept.size == (200, 300)  # turned upright before the tag was dropped


def test_labels_json_is_deterministic(tmp_path):
    a = make_scan_testset.build(tmp_path / "a", per_condition=1, seed=3, conditions=["frame"], scale=0.5)
    b = make_scan_testset.build(tmp_path / "b", per_condition=1, seed=3, conditions=["frame"], scale=0.5)
    assert a["images"] == b["images"]
    assert (tmp_path / "a" / "frame-000.jpg").read_bytes() == (tmp_path / "b" / "frame-000.jpg").read_bytes()
    assert json.loads((tmp_path / "a" / "labels.json").read_text())["seed"] == 3


def test_live_frames_are_read_by_the_quick_pass(tmp_path):
    # Frames at the size the scanner page sends them (640 x 480): they are small already.
    labels = make_scan_testset.build(
        tmp_path, per_condition=3, seed=11, conditions=["frame"], public_url=PUBLIC_URL
    )
    for item in labels["images"]:
        assert scan.decode_image((tmp_path / item["file"]).read_bytes(), quick=True) == item["expected"]


def test_a_kept_copy_is_reduced():
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), (10, 200, 10)).save(out, "JPEG")
    kept = Image.open(io.BytesIO(without_metadata(out.getvalue(), max_side=2560)))
    assert kept.size == (2560, 1920)


def test_a_phone_mpo_file_is_read_as_the_jpeg_it_is():
    label = Image.open(io.BytesIO(qr_png(PUBLIC_URL + "/c/MP0MP0MP0MP0M"))).convert("RGB")
    out = io.BytesIO()
    label.save(out, "MPO", save_all=True, append_images=[label.copy()])
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    assert scan.decode_image(out.getvalue()) == [PUBLIC_URL + "/c/MP0MP0MP0MP0M"]


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "I;16", "CMYK", "1"])
def test_every_image_mode_is_read(mode):
    text = PUBLIC_URL + "/c/M0DEM0DEM0DEM"
    label = Image.open(io.BytesIO(qr_png(text))).convert("L")
    if mode in ("RGBA", "LA"):
        # Dark modules on a transparent background, as QR generators export them.
        picture = Image.new(mode, label.size, (0, 0, 0, 0) if mode == "RGBA" else (0, 0))
        picture.putalpha(Image.eval(label, lambda v: 255 - v))
    elif mode == "I;16":
        picture = Image.fromarray(np.asarray(label, dtype=np.uint16) * 257)
    else:
        picture = label.convert(mode)
    out = io.BytesIO()
    picture.save(out, "JPEG" if mode == "CMYK" else "PNG")
    assert scan.decode_image(out.getvalue()) == [text]


class _Wrap:
    """Stands in for the generator in make_scan_testset.cylinder: a steep wrap, no bow."""

    def __init__(self) -> None:
        self.calls = 0

    def uniform(self, low: float, high: float) -> float:
        self.calls += 1
        return low + 0.95 * (high - low) if self.calls == 1 else 0.0


def test_a_label_round_a_can_is_unrolled():
    rng = np.random.default_rng(1)
    shot = make_scan_testset.Shot(rng, (1600, 1200), PUBLIC_URL)
    code = make_scan_testset.make_code(rng)
    url = f"{PUBLIC_URL}/c/{code}"
    art = make_scan_testset.cylinder(make_scan_testset.render_label(url, code, rng), _Wrap())
    make_scan_testset.paste(
        shot.scene, art, make_scan_testset.label_quad(rng, (800, 600), 600, art.shape[0] / art.shape[1])
    )
    shot.camera()
    gray, _ = scan.grayscale(make_scan_testset.jpeg(shot.scene, 90), max_side=1000)
    assert scan.read_pyzbar(gray) == []  # squeezed at the sides: pyzbar cannot read it as it is
    found = scan.read_uncurved(gray)
    assert [f.text for f in found] == [url]
    assert 400 < found[0].x < 600 and 300 < found[0].y < 450  # where the label is, in the 1000 px picture
