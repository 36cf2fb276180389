"""Participant and staff pages through the test client."""

from __future__ import annotations

import io
import zipfile

from PIL import Image
from sqlalchemy import func, select

from catalog.models import Order, Prize
from catalog.prizes import store_picture
from catalog.services import Item, place_order
from partner_club.accounts.models import Role
from partner_club.errors import Invalid
from partner_club.ledger.services import balance_of
from tests.catalog.conftest import ADDRESS, PHONE


def png(width=40, height=30, color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def test_catalog_page_shows_affordability_and_filters(client, make, cat, login):
    person = cat.participant(150)
    cheap = cat.prize(points=100, name_ru="Кепка", name_en="Cap")
    dear = cat.prize(points=400, name_ru="Термос", name_en="Flask")
    make.session.commit()
    login(person)
    en = {"Accept-Language": "en"}
    page = client.get("/prizes/", headers=en).get_data(as_text=True)
    assert "You can afford this" in page and "250 points to go" in page
    found = client.get("/prizes/?q=Cap", headers=en).get_data(as_text=True)
    assert f'data-prize="{cheap.id}"' in found and f'data-prize="{dear.id}"' not in found
    found_ru = client.get("/prizes/?q=термос", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert f'data-prize="{dear.id}"' in found_ru and f'data-prize="{cheap.id}"' not in found_ru
    affordable = client.get("/prizes/?affordable=1", headers=en).get_data(as_text=True)
    assert f'data-prize="{cheap.id}"' in affordable and f'data-prize="{dear.id}"' not in affordable


def test_cart_checkout_order_page(client, make, cat, login):
    person = cat.participant(1300)
    mug = cat.prize(points=300, stock=5)
    make.session.commit()
    login(person)
    client.post(f"/prizes/cart/add/{mug.id}", data={"quantity": 2})
    assert "600" in client.get("/prizes/cart").get_data(as_text=True)
    form = client.get("/prizes/checkout").get_data(as_text=True)
    key = form.split('name="idempotency_key" type="hidden" value="')[1].split('"')[0]
    data = {"address": ADDRESS, "phone": PHONE, "idempotency_key": key}
    response = client.post("/prizes/checkout", data=data)
    assert response.status_code == 302 and "/prizes/orders/" in response.location
    order_page = client.get(response.location, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "placed" in order_page and ADDRESS in order_page
    assert balance_of(make.session, person).active == 700
    # The second click: the cart is gone, so put the prize back and send the same key again.
    client.post(f"/prizes/cart/add/{mug.id}", data={"quantity": 2})
    again = client.post("/prizes/checkout", data=data)
    assert again.location == response.location
    assert make.session.scalar(select(func.count(Order.id))) == 1
    # The address is offered next time.
    client.post(f"/prizes/cart/add/{mug.id}")
    assert ADDRESS in client.get("/prizes/checkout").get_data(as_text=True)
    listing = client.get("/prizes/orders").get_data(as_text=True)
    assert f'data-order="{response.location.rsplit("/", 1)[1]}"' in listing


def test_checkout_errors_are_shown_on_the_form_in_russian(client, make, cat, login):
    person = cat.participant(400)  # a prize beyond the balance cannot reach the cart
    mug = cat.prize(points=300, stock=5)
    make.session.commit()
    login(person)
    client.post(f"/prizes/cart/add/{mug.id}")
    page = client.post(
        "/prizes/checkout",
        data={"address": "Казань", "phone": PHONE, "idempotency_key": "k1"},
        headers={"Accept-Language": "ru"},
    ).get_data(as_text=True)
    assert 'role="alert"' in page
    page = client.post(
        "/prizes/checkout",
        data={"address": ADDRESS, "phone": "12345", "idempotency_key": "k2"},
        headers={"Accept-Language": "ru"},
    ).get_data(as_text=True)
    assert "+7 912 345-67-89" in page and 'role="alert"' in page
    assert make.session.scalar(select(func.count(Order.id))) == 0


def test_crossing_the_allowance_asks_for_inn_once(client, make, cat, login):
    person = cat.participant(10000)
    tv = cat.prize(points=1000, value_kopecks=500000)  # 5,000 roubles: above the 4,000 allowance
    make.session.commit()
    login(person)
    client.post(f"/prizes/cart/add/{tv.id}")
    asked = client.post(
        "/prizes/checkout", data={"address": ADDRESS, "phone": PHONE, "idempotency_key": "t1"}
    )
    assert asked.location.endswith("/prizes/tax-profile")
    bad = client.post("/prizes/tax-profile", data={"inn": "500100732258", "consent": "y"}).get_data(
        as_text=True
    )
    assert 'role="alert"' in bad
    no_consent = client.post("/prizes/tax-profile", data={"inn": "500100732259"}).get_data(as_text=True)
    assert 'role="alert"' in no_consent
    saved = client.post("/prizes/tax-profile", data={"inn": "500100732259", "consent": "y"})
    assert saved.location.endswith("/prizes/checkout")
    assert ADDRESS in client.get("/prizes/checkout").get_data(as_text=True)  # kept while we asked
    placed = client.post(
        "/prizes/checkout", data={"address": ADDRESS, "phone": PHONE, "idempotency_key": "t2"}
    )
    assert "/prizes/orders/" in placed.location


def test_participants_cannot_reach_staff_pages(client, make, cat, login):
    login(cat.participant(0))
    assert client.get("/prizes/admin/orders").status_code == 403
    assert client.get("/prizes/admin/prizes").status_code == 403


def test_admin_creates_a_prize_with_a_picture_and_sets_stock(client, make, cat, login):
    admin = make.user(Role.ADMIN)
    category = cat.category()
    region = make.region()
    make.session.commit()
    login(admin)
    data = {
        "category": category.id,
        "name_ru": "Рюкзак",
        "name_en": "Backpack",
        "points": "700",
        "value_rub": "1500.50",
        "stock": "4",
        "provider": "warehouse",
        "provider_sku": "BAG-1",
        "regions": [region.id],
        "roles": ["owner"],
        "active": "y",
        "picture": (io.BytesIO(png()), "bag.png"),
    }
    response = client.post("/prizes/admin/prizes/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    prize = make.session.scalar(select(Prize).where(Prize.provider_sku == "BAG-1"))
    assert prize.value_kopecks == 150050 and prize.region_ids == [region.id] and prize.roles == ["owner"]
    picture = client.get(f"/prizes/picture/{prize.picture_id}")
    assert picture.status_code == 200 and picture.mimetype == "image/jpeg"
    client.post(f"/prizes/admin/prizes/{prize.id}/stock", data={"stock": "9"})
    make.session.refresh(prize)
    assert prize.stock == 9
    fake = dict(data, provider_sku="BAG-2", picture=(io.BytesIO(b"<?php echo 1; ?>"), "x.png"))
    page = client.post("/prizes/admin/prizes/new", data=fake, content_type="multipart/form-data")
    assert page.status_code == 200 and 'role="alert"' in page.get_data(as_text=True)
    assert make.session.scalar(select(func.count(Prize.id))) == 1


def test_csv_upload_with_zip_of_pictures_all_or_nothing(client, make, cat, login):
    admin = make.user(Role.ADMIN)
    cat.category(slug="branded")
    make.region("RU-TA")
    make.session.commit()
    login(admin)
    pictures = io.BytesIO()
    with zipfile.ZipFile(pictures, "w") as archive:
        archive.writestr("cap.png", png())
    header = "category,name_en,name_ru,points,value_rub,stock,provider,provider_sku,regions,roles,picture\n"
    good = (
        header + "branded,Cap,Кепка,200,350,10,warehouse,CAP-1,RU-TA,,cap.png\n"
        "branded,Pen,Ручка,50,\"99,90\",100,warehouse,PEN-1,,owner;seller,\n"
    )
    bad = (
        good + "branded,Ghost,Призрак,10,1,1,warehouse,GH-1,,,missing.png\nnope,X,Х,1,1,1,warehouse,X-1,,,\n"
    )

    def upload(text: str):
        return client.post(
            "/prizes/admin/prizes/import",
            content_type="multipart/form-data",
            data={
                "csv_file": (io.BytesIO(text.encode()), "prizes.csv"),
                "pictures": (io.BytesIO(pictures.getvalue()), "pictures.zip"),
            },
        )

    refused = upload(bad).get_data(as_text=True)
    assert "missing.png" in refused and "nope" in refused
    assert make.session.scalar(select(func.count(Prize.id))) == 0
    assert upload(good).status_code == 302
    prizes = make.session.scalars(select(Prize).order_by(Prize.provider_sku)).all()
    assert [(p.provider_sku, p.value_kopecks, p.picture_id is not None) for p in prizes] == [
        ("CAP-1", 35000, True),
        ("PEN-1", 9990, False),
    ]
    assert upload(good.replace("CAP-1,RU-TA", "CAP-1,")).status_code == 302  # an update, not a copy
    assert make.session.scalar(select(func.count(Prize.id))) == 2


def test_order_queue_ship_with_tracking_and_export(client, make, cat, login):
    admin = make.user(Role.ADMIN)
    person = cat.participant(1000)
    mug = cat.prize(points=100)
    make.session.commit()
    login(person)
    client.post(f"/prizes/cart/add/{mug.id}")
    order_url = client.post(
        "/prizes/checkout", data={"address": ADDRESS, "phone": PHONE, "idempotency_key": "q1"}
    ).location
    order_id = int(order_url.rsplit("/", 1)[1])
    client.post("/logout")
    login(admin)
    queue = client.get("/prizes/admin/orders?status=placed").get_data(as_text=True)
    assert f'data-order="{order_id}"' in queue
    assert (
        client.post(f"/prizes/admin/orders/{order_id}/ship", data={"tracking_number": ""}).status_code == 302
    )
    assert make.session.get(Order, order_id).status == "placed"  # refused: no tracking number
    client.post(f"/prizes/admin/orders/{order_id}/confirm")
    client.post(f"/prizes/admin/orders/{order_id}/ship", data={"tracking_number": "RA000111222RU"})
    make.session.expire_all()
    assert make.session.get(Order, order_id).tracking_number == "RA000111222RU"
    export = client.get("/prizes/admin/orders.csv").get_data(as_text=True)
    assert "RA000111222RU" in export and ADDRESS in export and export.startswith("\ufefforder_id,")
    client.post("/logout")
    login(person)
    assert "RA000111222RU" in client.get(order_url).get_data(as_text=True)


def test_cancel_from_the_queue_refunds(client, make, cat, login):
    admin = make.user(Role.ADMIN)
    person = cat.participant(1000)
    mug = cat.prize(points=100)
    make.session.commit()
    login(person)
    client.post(f"/prizes/cart/add/{mug.id}")
    order_id = int(
        client.post(
            "/prizes/checkout", data={"address": ADDRESS, "phone": PHONE, "idempotency_key": "c1"}
        ).location.rsplit("/", 1)[1]
    )
    client.post("/logout")
    login(admin)
    client.post(f"/prizes/admin/orders/{order_id}/cancel", data={"reason": "Out of mugs"})
    make.session.expire_all()
    assert make.session.get(Order, order_id).status == "cancelled"
    assert balance_of(make.session, person).active == 1000


def test_pictures_are_bounded_by_content(db):
    huge = io.BytesIO()
    Image.new("1", (8000, 6000)).save(huge, "PNG")  # tiny file, 48 million pixels
    for bad in (huge.getvalue(), b"GIF89a" + b"\0" * 20, b"", b"x" * (6 * 1024 * 1024)):
        try:
            store_picture(db.session, bad)
        except Invalid as error:
            assert error.code == "bad_picture"
        else:
            raise AssertionError("accepted a bad picture")
    big = store_picture(db.session, png(2000, 1000))
    assert (big.width, big.height) == (800, 400) and big.mimetype == "image/jpeg"


def test_delete_only_unordered_prizes_and_retry_providers_as_a_job(client, make, cat, login):
    admin = make.user(Role.ADMIN)
    person = cat.participant(1000)
    ordered, spare = cat.prize(), cat.prize()
    place_order(make.session, person, [Item(ordered.id, 1)], address=ADDRESS, phone=PHONE)
    make.session.commit()
    ordered_id, spare_id = ordered.id, spare.id
    login(admin)
    refused = client.post(f"/prizes/admin/prizes/{ordered_id}/delete", follow_redirects=True)
    assert 'flash-error' in refused.get_data(as_text=True)
    assert client.post(f"/prizes/admin/prizes/{spare_id}/delete").status_code == 302
    make.session.expire_all()
    assert make.session.get(Prize, ordered_id) is not None and make.session.get(Prize, spare_id) is None
    job_page = client.post("/prizes/admin/orders/retry-providers")
    assert job_page.status_code == 302 and "/jobs/" in job_page.location


def test_a_prize_beyond_the_balance_cannot_reach_the_cart(client, make, cat, login):
    person = cat.participant(250)
    mug = cat.prize(points=300, stock=5)
    pen = cat.prize(points=200, stock=5)
    make.session.commit()
    login(person)
    page = client.get("/prizes/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    mug_card = page.split(f'data-prize="{mug.id}"', 1)[1].split("</li>", 1)[0]
    assert "disabled" in mug_card and "50 points short" in mug_card
    # The server refuses even when the button is not used.
    refused = client.post(
        f"/prizes/cart/add/{mug.id}", headers={"Accept-Language": "en"}, follow_redirects=True
    )
    assert "50 points short of your balance" in refused.get_data(as_text=True)
    assert "cart_count" not in page and client.get("/prizes/checkout").status_code == 302
    # One pen fits; a second would not.
    client.post(f"/prizes/cart/add/{pen.id}")
    client.post(f"/prizes/cart/add/{pen.id}")
    assert 'value="1"' in client.get("/prizes/cart").get_data(as_text=True)


def test_cancelling_an_order_says_how_many_points_return_before_it_does(client, make, cat, login):
    admin = make.user(Role.ADMIN)
    person = cat.participant(1000)
    mug = cat.prize(points=1500 - 1000 + 100)
    make.session.commit()
    login(person)
    client.post(f"/prizes/cart/add/{mug.id}")
    order_id = int(
        client.post(
            "/prizes/checkout", data={"address": ADDRESS, "phone": PHONE, "idempotency_key": "c2"}
        ).location.rsplit("/", 1)[1]
    )
    client.post("/logout")
    login(admin)
    ask = client.post(
        f"/prizes/admin/orders/{order_id}/cancel/confirm",
        data={"reason": "Нет кружек"},
        headers={"Accept-Language": "ru"},
    ).get_data(as_text=True)
    assert "Отменить заказ" in ask and "вернутся на баланс" in ask and 'value="Нет кружек"' in ask
    make.session.expire_all()
    assert make.session.get(Order, order_id).status == "placed"
