"""The scanner in a real browser: a photo of three labels, and a (fake) live camera."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import func, select

from codes.models import Registration
from partner_club.accounts.models import Role
from tests.browser import sign_in
from tests.codes.helpers import batch, code
from tests.codes.test_scan import png_header_only
from tests.codes.test_scan_api import photo_of


def registrations(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Registration.id)))


def test_a_photo_of_three_labels_registers_three_codes(phone, live_server, make, db, screenshot, tmp_path):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    codes = [code(issued, n) for n in (21, 22, 23)]
    make.session.commit()
    shelf = tmp_path / "shelf.jpg"
    shelf.write_bytes(photo_of([f"{live_server}/c/{c}" for c in codes]))
    page = phone
    sign_in(page, seller.login)
    page.goto("/scan/")
    # No camera in this browser: the page says so and offers the photo.
    page.wait_for_function(
        "document.getElementById('scanner-status').textContent.includes('Сфотографируйте')"
    )
    # ... and offers no button to switch on a camera that is not there.
    assert page.locator("#scanner-start").is_hidden() and page.locator("#scanner-stop").is_hidden()
    page.set_input_files("#scanner-photo input[type=file]", str(shelf))
    page.click("#scanner-photo button[type=submit]")
    registered = ".scan-result.accepted, .scan-result.pending_review"  # fraud's checks may hold one
    page.wait_for_selector(".scan-result >> nth=2")
    assert page.locator(registered).count() == 3
    # In the photo's reading order, left to right.
    assert [page.locator(".scan-result small").nth(i).inner_text().strip() for i in range(3)] == codes
    assert page.locator("#tally-codes").inner_text() == "3"
    assert page.locator("#tally-points").inner_text() == "75"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "three-labels")
    assert registrations(db) == 3

    # The same photo again: each code answered as the person's own, no new points.
    page.set_input_files("#scanner-photo input[type=file]", str(shelf))
    page.click("#scanner-photo button[type=submit]")
    page.wait_for_function("document.querySelectorAll('.scan-result').length >= 6")
    assert page.locator("#tally-codes").inner_text() == "3"
    assert registrations(db) == 3


def test_bad_files_are_answered_on_the_page(phone, live_server, make, db, screenshot, tmp_path):
    seller = make.user(Role.SELLER)
    make.session.commit()
    page = phone
    sign_in(page, seller.login)
    page.goto("/scan/")
    cases = {
        "notes.jpg": b"this is not a picture",
        "empty.jpg": b"",
        "blank.jpg": _blank_jpeg(),
        "other.jpg": photo_of(["https://elsewhere.example/c/ABCDEFGHJKMN0"]),
        "text.jpg": photo_of(["Hello from another brand"]),
        "cut.jpg": photo_of(["Hello from another brand"])[:5000],
        "huge.png": png_header_only(20000, 20000),
        "big.jpg": b"\xff\xd8\xff\xe0" + b"\0" * (50 * 1024 * 1024),
    }
    expected = [
        "не фотография",
        "пустой",
        "Код не найден",
        "другой сайт",
        "не код Партнёрского клуба",
        "неполный",
        "мегапикселей",
        "слишком большое",
    ]
    for (name, data), words in zip(cases.items(), expected, strict=False):
        path = tmp_path / name
        path.write_bytes(data)
        before = page.locator(".scan-result").count()
        page.set_input_files("#scanner-photo input[type=file]", str(path))
        page.click("#scanner-photo button[type=submit]")
        page.wait_for_function(f"document.querySelectorAll('.scan-result').length > {before}")
        assert words in page.locator(".scan-result").first.inner_text(), name
    screenshot(page, "bad-files")
    page.goto("/scan/")  # the server is still up
    assert page.locator("#scanner-photo").count() == 1
    assert page.locator("#tally-codes").inner_text() == "0"
    assert registrations(db) == 0


def _blank_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 110, 130)).save(out, "JPEG")
    return out.getvalue()


def write_y4m(path: Path, picture: Image.Image, frames: int = 10) -> None:
    """A short raw video (4:2:0) of one still picture, which Chromium plays as its camera."""
    width, height = picture.size
    y = np.asarray(picture.convert("L"), dtype=np.uint8)
    chroma = np.full((height // 2, width // 2), 128, dtype=np.uint8).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + y.tobytes() + chroma + chroma)


def test_the_live_camera_reads_a_code_and_registers_it_once(
    browser, live_server, make, db, screenshot, tmp_path
):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    the_code = code(issued, 31)
    make.session.commit()
    label = Image.open(io.BytesIO(photo_of([f"{live_server}/c/{the_code}"]))).convert("RGB")
    frame = Image.new("RGB", (640, 480), (120, 100, 80))
    label.thumbnail((600, 440))
    frame.paste(label, ((640 - label.width) // 2, (480 - label.height) // 2))
    video = tmp_path / "camera.y4m"
    write_y4m(video, frame)
    camera_browser = browser.browser_type.launch(
        executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = camera_browser.new_context(
            viewport={"width": 360, "height": 780},
            locale="ru-RU",
            is_mobile=True,
            has_touch=True,
            base_url=live_server,
            permissions=["camera"],
        )
        page = context.new_page()
        page.set_default_timeout(20000)
        sign_in(page, seller.login)
        page.goto("/scan/")
        page.wait_for_selector(".scan-result")
        reader = page.locator("#scanner").get_attribute("data-reader")
        assert reader in ("device", "server")
        answer = page.locator(".scan-result")
        assert the_code in answer.inner_text()
        assert "accepted" in answer.get_attribute("class") or "pending_review" in answer.get_attribute(
            "class"
        )
        # The camera keeps seeing the same package: still one registration.
        page.wait_for_timeout(2500)
        assert page.locator(".scan-result").count() == 1
        assert page.locator("#tally-codes").inner_text() == "1"
        screenshot(page, "live-camera")
        context.close()
    finally:
        camera_browser.close()
    assert registrations(db) == 1


def _noisy_photo(payloads: list[str], seed: int) -> bytes:
    """A 12-megapixel JPEG full of grain (about 6 MB), labels in the middle."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(3000, 4000, 3), dtype=np.uint8)
    canvas = Image.fromarray(pixels)
    if payloads:
        labels = Image.open(io.BytesIO(photo_of(payloads)))
        labels = labels.resize((labels.width * 3, labels.height * 3))
        canvas.paste(labels, (200, 800))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=92)
    return out.getvalue()


def test_a_rep_decodes_a_folder_of_big_shop_photos(
    phone, live_server, make, db, screenshot, tmp_path, work_jobs
):
    rep, _territory, _outlet = make.rep_with_outlet()
    issued = batch(db.session)
    codes = [code(issued, n) for n in (41, 42, 43)]
    make.session.commit()
    files = []
    for i, payloads in enumerate(
        [[f"{live_server}/c/{codes[0]}", f"{live_server}/c/{codes[1]}"], [f"{live_server}/c/{codes[2]}"], []]
    ):
        path = tmp_path / f"visit-{i}.jpg"
        path.write_bytes(_noisy_photo(payloads, i))
        files.append(str(path))
    assert sum(Path(f).stat().st_size for f in files) > 16 * 1024 * 1024  # over the upload limit as they are
    page = phone
    sign_in(page, rep.login)
    page.goto("/scan/bulk")
    page.set_input_files("#bulk-form input[type=file]", files)
    page.click("#bulk-form button[type=submit]")
    page.wait_for_url("**/scan/bulk/*")
    work_jobs()  # with Redis, an rq worker; without, the job already ran
    page.wait_for_selector(".bulk-summary")  # the progress bar reloads the page when done
    assert page.locator(".scan-result.state-not_registered").count() == 3
    assert page.locator(".bulk-images > li").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "bulk")
