"""The scanner pages through the client: page, photo form, bulk decoding job, review photos."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from codes.models import Registration
from codes.scan_models import BulkScanImage, ScanPhoto
from codes.scan_services import keep_review_photo
from partner_club.accounts.models import Role
from tests.codes.helpers import batch, code
from tests.codes.test_scan_api import CLUB, jpeg_bytes, photo_of


def count(db, model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(model.id)))


def test_the_scanner_page_is_for_participants(client, make, login, db):
    seller, rep = make.user(Role.SELLER), make.user(Role.REP)
    make.session.commit()
    login(seller)
    page = client.get("/scan/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="scanner-video"' in html and 'capture="environment"' in html and "scanner/live.js" in html
    assert "Сканировать коды" in client.get("/").get_data(as_text=True)  # the menu entry, in Russian
    client.post("/logout")
    login(rep)
    assert client.get("/scan/").status_code == 403


def test_the_photo_form_registers_every_code_without_javascript(client, make, login, db):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    codes = [code(issued, n) for n in (7, 8)]
    make.session.commit()
    login(seller)
    response = client.post(
        "/scan/photo",
        data={"image": (io.BytesIO(photo_of([f"{CLUB}/c/{c}" for c in codes])), "p.jpg")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # Registered (fraud's checks may hold one for review: same device, many codes).
    registered = html.count('class="scan-result accepted"') + html.count('class="scan-result pending_review"')
    assert registered == 2 and codes[0] in html and codes[1] in html
    assert count(db, Registration) == 2


def test_the_photo_form_answers_bad_files_and_empty_photos(client, make, login, db):
    seller = make.user(Role.SELLER)
    make.session.commit()
    login(seller)
    bad = client.post(
        "/scan/photo", data={"image": (io.BytesIO(b"hello"), "x.jpg")}, content_type="multipart/form-data"
    )
    assert bad.status_code == 415 and "не фотография" in bad.get_data(as_text=True)
    empty = client.post(
        "/scan/photo", data={"image": (io.BytesIO(jpeg_bytes()), "x.jpg")}, content_type="multipart/form-data"
    )
    assert empty.status_code == 200 and "Код не найден" in empty.get_data(as_text=True)
    assert count(db, Registration) == 0


def test_bulk_photos_are_decoded_by_a_job_and_then_deleted(client, make, login, db, work_jobs):
    rep, _territory, outlet = make.rep_with_outlet()
    owner = make.user(Role.OWNER, outlet=outlet)
    issued = batch(db.session)
    codes = [code(issued, n) for n in (11, 12, 13)]
    make.session.commit()
    login(owner)
    client.post(
        "/scan/photo",
        data={"image": (io.BytesIO(photo_of([f"{CLUB}/c/{codes[0]}"])), "p.jpg")},
        content_type="multipart/form-data",
    )
    client.post("/logout")
    login(rep)
    files = [
        (io.BytesIO(photo_of([f"{CLUB}/c/{codes[0]}", f"{CLUB}/c/{codes[1]}"])), "shelf.jpg"),
        (io.BytesIO(photo_of(["https://elsewhere.example/c/X"])), "other.jpg"),
        (io.BytesIO(jpeg_bytes()), "blank.jpg"),
        (io.BytesIO(b"not a photo"), "notes.txt"),
    ]
    response = client.post("/scan/bulk", data={"images": files}, content_type="multipart/form-data")
    assert response.status_code == 302
    work_jobs()
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "shelf.jpg" in html and "notes.txt" in html
    assert html.count("state-registered") == 1 and html.count("state-not_registered") == 1
    assert "state-other_host" in html and "не фотография" in html
    assert count(db, BulkScanImage) == 0
    # Only its author (or an admin) sees a job's results.
    client.post("/logout")
    login(owner)
    assert client.get(response.headers["Location"]).status_code == 404


def test_review_photos_are_for_admins(client, make, login, db):
    seller, admin = make.user(Role.SELLER), make.user(Role.ADMIN)
    kept = keep_review_photo(db.session, seller, jpeg_bytes(), [])
    make.session.commit()
    login(seller)
    assert client.get(f"/scan/photos/{kept.id}.jpg").status_code == 403
    client.post("/logout")
    login(admin)
    response = client.get(f"/scan/photos/{kept.id}.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert count(db, ScanPhoto) == 1


def test_the_photo_form_refuses_a_huge_upload_with_a_page(client, make, login, db):
    seller = make.user(Role.SELLER)
    make.session.commit()
    login(seller)
    big = b"\xff\xd8\xff\xe0" + b"\0" * (20 * 1024 * 1024)
    response = client.post(
        "/scan/photo", data={"image": (io.BytesIO(big), "big.jpg")}, content_type="multipart/form-data"
    )
    assert response.status_code == 413
    assert "слишком большое" in response.get_data(as_text=True)
    assert count(db, Registration) == 0
