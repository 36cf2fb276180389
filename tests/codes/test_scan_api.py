"""POST /api/v1/scans: photos in, one answer per code out; bad files refused."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from flask import g
from PIL import Image
from sqlalchemy import func, select

from codes.models import Registration
from codes.scan_models import ScanPhoto, scan_photo_registrations
from codes.scan_services import NotClubCode, club_code_of
from partner_club.accounts.models import Role
from partner_club.signals import HOLD, Assessment, registration_checks
from tests.codes.helpers import batch, code
from tests.codes.test_scan import png_header_only

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import make_scan_testset

CLUB = "http://club.test"  # PUBLIC_URL of the test app


def photo_of(payloads: list[str], *, exif_gps: bool = False) -> bytes:
    """A JPEG of labels side by side, like a phone photo of a shelf."""
    rng = np.random.default_rng(5)
    labels = [make_scan_testset.render_label(p, p.rsplit("/", 1)[-1][:13], rng, width=360) for p in payloads]
    height = max(label.shape[0] for label in labels) + 80
    width = sum(label.shape[1] + 40 for label in labels) + 40
    canvas = Image.new("RGB", (width, height), (150, 120, 90))
    x = 40
    for label in labels:
        canvas.paste(Image.fromarray(label), (x, 40))
        x += label.shape[1] + 40
    out = io.BytesIO()
    kwargs = {}
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"
        kwargs["exif"] = exif.tobytes()
    canvas.save(out, "JPEG", quality=90, **kwargs)
    return out.getvalue()


def post_scan(
    client, token, data: bytes | None = None, *, register: bool = False, payloads=(), name="photo.jpg"
):
    g.pop("_login_user", None)  # the test's app context outlives requests
    form: dict = {"register": "1" if register else "0"}
    if data is not None:
        form["image"] = (io.BytesIO(data), name)
    if payloads:
        form["payload"] = list(payloads)
    return client.post(
        "/api/v1/scans",
        data=form,
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {token}"},
    )


def registrations(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Registration.id)))


@pytest.fixture
def seller_and_codes(make, db):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    codes = [code(issued, n) for n in (1, 2, 3, 4)]
    make.session.commit()
    return seller, codes


def test_decoding_only_lists_the_codes_in_reading_order_and_registers_nothing(
    client, api_token, db, seller_and_codes
):
    seller, codes = seller_and_codes
    links = [f"{CLUB}/c/{c}" for c in codes[:3]]
    response = post_scan(client, api_token(seller), photo_of(links))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["codes"] == links
    assert [r["result"] for r in body["results"]] == ["club_code"] * 3
    assert [r["code"] for r in body["results"]] == codes[:3]
    assert registrations(db) == 0


def test_a_photo_of_three_labels_registers_three_codes(client, api_token, db, seller_and_codes, daytime):
    seller, codes = seller_and_codes
    response = post_scan(
        client, api_token(seller), photo_of([f"{CLUB}/c/{c}" for c in codes[:3]]), register=True
    )
    body = response.get_json()
    assert response.status_code == 200, body
    # Codes of one photo arrive together: fraud's pace rule must not hold them.
    assert [r["result"] for r in body["results"]] == ["accepted"] * 3
    assert body["registered"] == 3 and body["points"] == 75
    assert all(r["product"]["sku"] == "PAINT-10L" and r["registration_id"] for r in body["results"])
    assert registrations(db) == 3
    # Accepted codes need no evidence: the photo is kept only if one was held.
    assert db.session.scalar(select(func.count(ScanPhoto.id))) == 0


def test_a_shelf_photo_of_six_labels_is_accepted_whole(client, api_token, make, db, daytime):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    codes = [code(issued, n) for n in (3, 17, 40, 61, 77, 95)]
    body = post_scan(
        client, api_token(seller), photo_of([f"{CLUB}/c/{c}" for c in codes]), register=True
    ).get_json()
    assert [r["result"] for r in body["results"]] == ["accepted"] * 6


def test_each_code_in_a_photo_gets_its_own_answer(client, api_token, make, db, seller_and_codes):
    seller, codes = seller_and_codes
    other = make.user(Role.SELLER)
    make.session.commit()
    assert (
        post_scan(client, api_token(other), payloads=[f"{CLUB}/c/{codes[1]}"], register=True).status_code
        == 200
    )
    forged = codes[0][:12] + ("0" if codes[0][12] != "0" else "1")
    payloads = [
        f"{CLUB}/c/{codes[0]}",
        f"{CLUB}/c/{codes[1]}",
        f"{CLUB}/c/{forged}",
        f"https://elsewhere.example/c/{codes[2]}",
        "just some text",
    ]
    response = post_scan(client, api_token(seller), photo_of(payloads), register=True)
    body = response.get_json()
    assert body["codes"] == payloads
    results = {r["payload"]: r for r in body["results"]}
    # Fraud may hold it (two sellers, one device): registered either way.
    assert results[payloads[0]]["result"] in ("accepted", "pending_review")
    assert results[payloads[1]]["result"] == "already_registered"
    assert (
        results[payloads[2]]["result"] == "invalid" and results[payloads[2]]["reason"] == "bad_check_symbol"
    )
    assert results[payloads[3]]["result"] == "not_ours" and results[payloads[3]]["reason"] == "other_host"
    assert (
        results[payloads[4]]["result"] == "not_ours" and results[payloads[4]]["reason"] == "not_a_club_link"
    )
    assert all(r["message"] for r in body["results"])
    assert body["registered"] == 1
    assert registrations(db) == 2  # the other seller's and this one


def test_a_held_registration_keeps_the_photo_without_exif(client, api_token, db, seller_and_codes):
    seller, codes = seller_and_codes

    def hold(_attempt, **_kw):
        return Assessment(decision=HOLD, score=0.9)

    registration_checks.connect(hold)
    try:
        response = post_scan(
            client, api_token(seller), photo_of([f"{CLUB}/c/{codes[0]}"], exif_gps=True), register=True
        )
    finally:
        registration_checks.disconnect(hold)
    result = response.get_json()["results"][0]
    assert result["result"] == "pending_review"
    photo = db.session.scalars(select(ScanPhoto)).one()
    linked = db.session.execute(select(scan_photo_registrations.c.registration_id)).scalars().all()
    assert linked == [result["registration_id"]]
    kept = Image.open(io.BytesIO(photo.data))
    assert kept.format == "JPEG" and not kept.getexif()


def test_codes_read_by_the_phone_itself_are_registered_once(client, api_token, db, seller_and_codes):
    seller, codes = seller_and_codes
    token = api_token(seller)
    first = post_scan(client, token, payloads=[f"{CLUB}/c/{codes[0]}"], register=True).get_json()
    again = post_scan(client, token, payloads=[f"{CLUB}/c/{codes[0]}"], register=True).get_json()
    assert first["results"][0]["result"] in ("accepted", "pending_review") and first["points"] == 25
    assert again["results"][0]["repeat"] is True and again["points"] == 0
    assert registrations(db) == 1


def test_only_participants_register(client, api_token, make, db, seller_and_codes):
    _, codes = seller_and_codes
    rep = make.user(Role.REP)
    make.session.commit()
    response = post_scan(client, api_token(rep), payloads=[f"{CLUB}/c/{codes[0]}"], register=True)
    assert response.status_code == 403
    assert post_scan(client, api_token(rep), photo_of([f"{CLUB}/c/{codes[0]}"])).status_code == 200
    assert registrations(db) == 0


def jpeg_bytes(size=(900, 700)) -> bytes:
    out = io.BytesIO()
    Image.effect_noise(size, 50).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "status", "reason"),
    [
        (b"", 422, "empty_file"),
        (b"MZ\x90\x00 an executable, not a photo", 415, "not_an_image"),
        (png_header_only(20000, 20000), 413, "too_many_pixels"),
        (jpeg_bytes()[:3000], 422, "truncated_image"),
    ],
)
def test_bad_files_get_clear_answers_and_register_nothing(
    client, api_token, db, seller_and_codes, data, status, reason
):
    seller, _ = seller_and_codes
    response = post_scan(client, api_token(seller), data, register=True)
    assert response.status_code == status
    body = response.get_json()
    assert body["reason"] == reason and body["title"]
    assert registrations(db) == 0


def test_a_50_megabyte_upload_is_refused(client, api_token, db, seller_and_codes):
    seller, _ = seller_and_codes
    big = b"\xff\xd8\xff\xe0" + b"\0" * (50 * 1024 * 1024)
    response = post_scan(client, api_token(seller), big, register=True)
    assert response.status_code == 413 and response.get_json()["reason"] == "file_too_large"
    assert registrations(db) == 0


def test_a_photo_without_a_code_gets_advice(client, api_token, db, seller_and_codes):
    seller, _ = seller_and_codes
    response = post_scan(client, api_token(seller), jpeg_bytes(), register=True)
    body = response.get_json()
    assert response.status_code == 200 and body["codes"] == [] and "ближе" in body["message"]


def test_the_answer_speaks_russian(client, api_token, db, seller_and_codes):
    seller, _ = seller_and_codes
    g.pop("_login_user", None)
    response = client.post(
        "/api/v1/scans",
        data={"payload": "hello"},
        headers={"Authorization": f"Bearer {api_token(seller)}", "Accept-Language": "ru"},
    )
    assert response.get_json()["results"][0]["message"] == "Этот QR-код — не код Партнёрского клуба."


def test_no_image_no_payload_is_a_400(client, api_token, db, seller_and_codes):
    seller, _ = seller_and_codes
    g.pop("_login_user", None)
    response = client.post("/api/v1/scans", data={}, headers={"Authorization": f"Bearer {api_token(seller)}"})
    assert response.status_code == 400 and response.get_json()["reason"] == "no_image"


def test_scans_are_rate_limited(app, client, api_token, db, seller_and_codes):
    seller, _ = seller_and_codes
    token = api_token(seller)
    app.config["SCAN_RATE_LIMIT"] = "3 per minute"
    try:
        statuses = [post_scan(client, token, payloads=["x"]).status_code for _ in range(4)]
    finally:
        del app.config["SCAN_RATE_LIMIT"]
    assert statuses == [200, 200, 200, 429]


def test_the_endpoint_is_documented(client, db):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "post" in spec["paths"]["/api/v1/scans"]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("http://club.test/c/ABCDEFGHJKMN0", "ABCDEFGHJKMN0"),
        ("https://CLUB.test/c/ABCDEFGHJKMN0/", "ABCDEFGHJKMN0"),
        ("https://club.test.evil.example/c/ABCDEFGHJKMN0", "other_host"),
        ("http://club.test:8080/c/ABCDEFGHJKMN0", "other_host"),
        ("http://club.test/x/ABCDEFGHJKMN0", "not_a_club_link"),
        ("ABCDEFGHJKMN0", "not_a_club_link"),
        ("javascript:alert(1)", "not_a_club_link"),
        ("http://[::1/c/A", "not_a_club_link"),
    ],
)
def test_club_links_are_told_apart(payload, expected):
    try:
        assert club_code_of(payload, CLUB) == expected
    except NotClubCode as refusal:
        assert refusal.code == expected
