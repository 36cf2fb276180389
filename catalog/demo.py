"""Demo data of the catalog package, loaded by `flask demo seed` after the core world."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Category, Prize, PrizeRegion, PrizeRole
from catalog.prizes import store_picture
from catalog.services import Item, confirm_order, place_order, ship_order
from partner_club.accounts.models import User
from partner_club.demo.world import DemoWorld
from partner_club.errors import DomainError
from partner_club.ledger.models import Account

CATEGORIES = (
    ("branded", "branded", "Branded goods", "Фирменные товары"),
    ("seasonal", "seasonal", "Seasonal and themed goods", "Сезонные и тематические товары"),
    ("gift-cards", "gift_card", "Gift cards", "Подарочные карты"),
)

# slug, name_en, name_ru, description_en, description_ru, points, value roubles, stock, provider, sku, colour
PRIZES = (
    (
        "branded",
        "Branded mug",
        "Фирменная кружка",
        "Ceramic, 350 ml",
        "Керамика, 350 мл",
        300,
        450,
        120,
        "warehouse",
        "BR-MUG",
        (11, 92, 171),
    ),
    (
        "branded",
        "Cap with the logo",
        "Кепка с логотипом",
        "One size",
        "Универсальный размер",
        450,
        700,
        80,
        "warehouse",
        "BR-CAP",
        (30, 142, 62),
    ),
    (
        "branded",
        "Work jacket",
        "Рабочая куртка",
        "Warm, sizes M-XXL",
        "Тёплая, размеры M-XXL",
        2500,
        3900,
        25,
        "warehouse",
        "BR-JACKET",
        (197, 34, 31),
    ),
    (
        "branded",
        "Tape measure 5 m",
        "Рулетка 5 м",
        "With the brand's logo",
        "С логотипом бренда",
        200,
        300,
        300,
        "warehouse",
        "BR-TAPE",
        (199, 119, 0),
    ),
    (
        "seasonal",
        "Garden set",
        "Садовый набор",
        "Gloves, pruner and a watering can",
        "Перчатки, секатор и лейка",
        1200,
        1800,
        40,
        "warehouse",
        "SE-GARDEN",
        (67, 160, 71),
    ),
    (
        "seasonal",
        "New Year hamper",
        "Новогодний набор",
        "Tea, sweets and a calendar",
        "Чай, сладости и календарь",
        900,
        1300,
        60,
        "warehouse",
        "SE-NEWYEAR",
        (156, 39, 176),
    ),
    (
        "seasonal",
        "Thermos 1 l",
        "Термос 1 л",
        "Steel, keeps warm for 24 hours",
        "Сталь, держит тепло 24 часа",
        1500,
        2400,
        0,
        "warehouse",
        "SE-THERMOS",
        (84, 110, 122),
    ),
    (
        "gift-cards",
        "Ozon gift card 1,000 ₽",
        "Подарочная карта Ozon на 1 000 ₽",
        "The code arrives on the order page and by e-mail",
        "Код придёт на странице заказа и по почте",
        1000,
        1000,
        500,
        "giftcard_http",
        "OZON-1000",
        (0, 91, 255),
    ),
    (
        "gift-cards",
        "Fuel card 3,000 ₽",
        "Топливная карта на 3 000 ₽",
        "For shop owners only",
        "Только для владельцев магазинов",
        3000,
        3000,
        100,
        "giftcard_http",
        "FUEL-3000",
        (255, 111, 0),
    ),
)


def _picture(session: Session, colour: tuple[int, int, int], text: str):
    image = Image.new("RGB", (400, 300), (245, 247, 250))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((60, 40, 340, 260), radius=36, fill=colour)
    draw.ellipse((150, 100, 250, 200), fill=(255, 255, 255))
    draw.text((185, 135), text[:2].upper(), fill=colour)
    out = io.BytesIO()
    image.save(out, "PNG")
    return store_picture(session, out.getvalue())


def seed(session: Session, world: DemoWorld) -> None:
    """Three categories and a handful of prizes, one limited to a region, one to owners."""
    categories = {}
    for position, (slug, kind, name_en, name_ru) in enumerate(CATEGORIES):
        categories[slug] = Category(slug=slug, kind=kind, name_en=name_en, name_ru=name_ru, position=position)
        session.add(categories[slug])
    session.flush()
    for slug, name_en, name_ru, text_en, text_ru, points, rub, stock, provider, sku, colour in PRIZES:
        prize = Prize(
            category_id=categories[slug].id,
            name_en=name_en,
            name_ru=name_ru,
            description_en=text_en,
            description_ru=text_ru,
            points=points,
            value_kopecks=rub * 100,
            stock=stock,
            provider=provider,
            provider_sku=sku,
            picture=_picture(session, colour, name_en),
        )
        if sku == "FUEL-3000":
            prize.role_links = [PrizeRole(role="owner")]
        if sku == "SE-GARDEN" and world.regions:
            prize.region_links = [PrizeRegion(region_id=world.regions[0].id)]
        session.add(prize)
    session.flush()
    orders = _demo_orders(session, world)
    world.notes.append(
        f"Catalog: {len(PRIZES)} prizes in {len(CATEGORIES)} categories "
        f"and {orders} orders (gift cards need GIFTCARD_URL)"
    )


def _demo_orders(session: Session, world: DemoWorld) -> int:
    """The three richest participants order the tape measure; the first order is shipped."""
    tape = session.scalar(select(Prize).where(Prize.provider_sku == "BR-TAPE"))
    richest = session.scalars(
        select(User)
        .join(Account, Account.user_id == User.id)
        .where(Account.active >= tape.points, User.role.in_(("owner", "seller")))
        .order_by(Account.active.desc(), User.id)
        .limit(3)
    ).all()
    placed = []
    for person in richest:
        address = (
            f"{person.outlet.address}, office 1"
            if person.outlet and person.outlet.address
            else "Kazan, Baumana street 1, flat 1"
        )
        try:
            placed.append(
                place_order(
                    session, person, [Item(tape.id, 1)], address=address, phone="+7 900 000-00-00"
                ).order
            )
        except DomainError:
            continue
    if placed:
        confirm_order(session, placed[0].id, actor=world.admin)
        ship_order(session, placed[0].id, tracking_number="RA000000001RU", actor=world.admin)
    return len(placed)
