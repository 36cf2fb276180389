"""The core demo world: regions, managers, reps and their territories, shops, owners, sellers.

Deterministic (one seeded random generator) and fast: every account shares one
password whose hash is computed once, and rows go in with a few bulk flushes.
Shops are scattered around each region's towns and always land inside the
region's real boundary (`regions.geo`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from partner_club.accounts.models import Role, User, UserStatus
from partner_club.database import utcnow
from partner_club.demo.world import DemoWorld
from partner_club.outlets.models import Outlet
from partner_club.regions import geo
from partner_club.regions.models import Region, Territory
from partner_club.regions.services import find_region, import_bundled_regions, region_shape

DEMO_PASSWORD = "demo-club-2026"
DEMO_DOMAIN = "demo.example.com"
DEFAULT_SEED = 2026
DEFAULT_SHOPS = 320

Seeder = Callable[[Session, DemoWorld], None]


@dataclass(frozen=True)
class Town:
    name: str
    lat: float
    lon: float
    spread_km: float


# The demo regions and the towns their shops cluster around.
DEMO_REGIONS: dict[str, tuple[Town, ...]] = {
    "RU-MOW": (Town("Москва", 55.7558, 37.6173, 11),),
    "RU-SPE": (Town("Санкт-Петербург", 59.9343, 30.3351, 8),),
    "RU-TA": (
        Town("Казань", 55.7963, 49.1088, 8),
        Town("Набережные Челны", 55.7436, 52.3958, 6),
        Town("Альметьевск", 54.9014, 52.2973, 4),
    ),
    "RU-SVE": (
        Town("Екатеринбург", 56.8389, 60.6057, 10),
        Town("Нижний Тагил", 57.9194, 59.9650, 5),
        Town("Каменск-Уральский", 56.4149, 61.9189, 4),
    ),
    "KZ-ALA": (Town("Алматы", 43.2389, 76.8897, 6),),
}

FIRST_NAMES = (
    "Алексей",
    "Андрей",
    "Анна",
    "Екатерина",
    "Дмитрий",
    "Ирина",
    "Сергей",
    "Ольга",
    "Михаил",
    "Наталья",
    "Павел",
    "Татьяна",
    "Руслан",
    "Гульнара",
    "Айгерим",
    "Ильдар",
    "Елена",
    "Виктор",
    "Марина",
    "Тимур",
    "Светлана",
    "Артём",
    "Юлия",
    "Нурлан",
)
LAST_NAMES = (
    "Иванов",
    "Петров",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Гарипов",
    "Хабибуллин",
    "Нуриев",
    "Ахметов",
    "Сейткали",
    "Жумабаев",
    "Орлов",
    "Зайцев",
)
SHOP_WORDS = (
    "Стройдвор",
    "Мастер",
    "Домострой",
    "Всё для дома",
    "Краски и лаки",
    "Ремонт+",
    "Хозмаг",
    "Строитель",
    "Уютный дом",
    "Профи",
    "Отделка",
    "Дачник",
    "Мегастрой",
    "Кисть и валик",
    "Фасад",
    "Малярка",
)
STREETS = (
    "ул. Ленина",
    "ул. Гагарина",
    "пр. Мира",
    "ул. Советская",
    "ул. Строителей",
    "ул. Садовая",
    "ул. Пушкина",
    "ул. Заводская",
    "ул. Молодёжная",
    "ул. Центральная",
)
KIND_WEIGHTS = (("shop", 60), ("market", 15), ("builders_yard", 15), ("chain", 7), ("online", 3))


def _person_name(rng: random.Random) -> str:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    if first.endswith(("а", "я")) and not last.endswith(("ли", "ев")):  # Анна Петрова
        last += "а"
    return f"{first} {last}"


def _tax_number(rng: random.Random) -> str:
    """A 10-digit Russian INN of a company, with its real check digit."""
    digits = [rng.randint(0, 9) for _ in range(9)]
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    check = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10
    return "".join(map(str, digits)) + str(check)


def _user(login: str, role: Role, password_hash: str, rng: random.Random, **kw) -> User:
    return User(
        login=login,
        role=role.value,
        password_hash=password_hash,
        full_name=_person_name(rng),
        status=UserStatus.ACTIVE.value,
        locale="ru",
        email=login if "@" in login else None,
        email_confirmed_at=utcnow() if "@" in login else None,  # the demo's people confirmed theirs
        phone=None if "@" in login else login,
        **kw,
    )


def _place_shops(
    rng: random.Random, region: Region, territories: list[Territory], count: int, first_number: int
) -> list[Outlet]:
    shape = region_shape(region)
    towns = DEMO_REGIONS[region.iso_code]
    outlets = []
    for i in range(count):
        if rng.random() < 0.85:  # most shops in towns, a few out in the region
            town = towns[0] if rng.random() < 0.6 else rng.choice(towns)
            lat, lon = geo.random_point_near(shape, rng, (town.lat, town.lon), spread_km=town.spread_km)
        else:
            town = towns[0]
            lat, lon = geo.random_point(shape, rng)
        number = first_number + i
        word = rng.choice(SHOP_WORDS)
        outlets.append(
            Outlet(
                external_id=f"DEMO-{number:05d}",
                name=f"{word} №{number}",
                legal_name=f"ООО «{word} {number}»" if rng.random() < 0.7 else f"ИП {_person_name(rng)}",
                tax_number=_tax_number(rng),
                address=f"{town.name}, {rng.choice(STREETS)}, д. {rng.randint(1, 150)}",
                kind=rng.choices([k for k, _ in KIND_WEIGHTS], [w for _, w in KIND_WEIGHTS])[0],
                region_id=region.id,
                territory_id=territories[i % len(territories)].id,
                lat=round(lat, 6),
                lon=round(lon, 6),
                active=rng.random() > 0.02,
            )
        )
    return outlets


def seed_world(
    session: Session,
    *,
    rng_seed: int = DEFAULT_SEED,
    shops: int = DEFAULT_SHOPS,
    password: str = DEMO_PASSWORD,
) -> DemoWorld:
    """Builds the core demo world in the session (flushed, not committed)."""
    rng = random.Random(rng_seed)
    password_hash = generate_password_hash(password)
    import_bundled_regions(session)
    admin = _user(f"admin@{DEMO_DOMAIN}", Role.ADMIN, password_hash, rng)
    office = _user(f"office@{DEMO_DOMAIN}", Role.HEAD_OFFICE, password_hash, rng)
    session.add_all([admin, office])
    world = DemoWorld(rng=rng, now=utcnow(), admin=admin, head_office=office, password=password)
    world.regions = [find_region(session, code) for code in DEMO_REGIONS]

    per_region = [
        shops // len(world.regions) + (i < shops % len(world.regions)) for i in range(len(world.regions))
    ]
    for region, count in zip(world.regions, per_region, strict=False):
        slug = region.iso_code.lower()
        world.managers.append(
            _user(
                f"manager.{slug}@{DEMO_DOMAIN}",
                Role.REGIONAL_MANAGER,
                password_hash,
                rng,
                region_id=region.id,
            )
        )
        reps = [
            _user(f"rep.{slug}.{n}@{DEMO_DOMAIN}", Role.REP, password_hash, rng)
            for n in range(1, rng.choice((2, 3, 3)) + 1)
        ]
        session.add_all([world.managers[-1], *reps])
        session.flush()
        territories = [
            Territory(region_id=region.id, name=f"{rep.full_name} — {region.name_ru}", rep_id=rep.id)
            for rep in reps
        ]
        session.add_all(territories)
        session.flush()
        outlets = _place_shops(rng, region, territories, count, len(world.outlets) + 1)
        session.add_all(outlets)
        world.reps.extend(reps)
        world.territories.extend(territories)
        world.outlets.extend(outlets)
    session.flush()
    _seed_people(session, world, password_hash)
    world.logins.update(_first_logins(world))
    return world


def _seed_people(session: Session, world: DemoWorld, password_hash: str) -> None:
    rng, phones = world.rng, iter(range(1_000_001, 9_999_999))
    for n, outlet in enumerate(world.outlets, start=1):
        world.owners.append(
            _user(f"owner{n:04d}@{DEMO_DOMAIN}", Role.OWNER, password_hash, rng, outlet_id=outlet.id)
        )
        if rng.random() < 0.7:  # most shops have a seller or a few
            for _ in range(rng.choice((1, 1, 2, 3))):
                status = UserStatus.PENDING if rng.random() < 0.05 else UserStatus.ACTIVE
                seller = _user(f"+7999{next(phones)}", Role.SELLER, password_hash, rng, outlet_id=outlet.id)
                seller.status = status.value
                world.sellers.append(seller)
    for territory in world.territories:
        for _ in range(2):
            world.individuals.append(
                _user(f"+7999{next(phones)}", Role.SELLER, password_hash, rng, territory_id=territory.id)
            )
    session.add_all([*world.owners, *world.sellers, *world.individuals])
    session.flush()


def _first_logins(world: DemoWorld) -> dict[str, tuple[str, str]]:
    """One person of each role, in the first demo region, to try the club with."""
    first_region = world.regions[0].id
    rep = next(t.rep for t in world.territories if t.region_id == first_region)
    owner = next(o for o in world.owners if o.outlet_id == world.outlets[0].id)
    seller = next(s for s in world.sellers if s.status == UserStatus.ACTIVE.value)
    people = (world.admin, world.head_office, world.managers[0], rep, owner, seller)
    return {person.role: (person.login, world.password) for person in people}


def seed_demo(session: Session, seeders: Iterable[Seeder] = (), **options) -> DemoWorld:
    """The core world, then each package's seeder in order; one transaction, not committed."""
    world = seed_world(session, **options)
    for seeder in seeders:
        seeder(session, world)
        session.flush()
    return world
