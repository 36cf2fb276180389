"""Demo data of the codes package, loaded by `flask demo seed` after the core world.

Products with both kinds of points rule, activated batches (plus a printed
one, a voided one and a canary), and half a year of registrations by the demo
shops' people, stored through `store_registration`: the ledger and the
report rollups see them as real ones; the fraud checks are skipped (they are
slow, and the fraud package seeds its own suspicious history).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy.orm import Session

from codes import issuing, services
from codes.models import BatchStatus
from partner_club.demo.world import DemoWorld

PRODUCTS = [
    # sku, name, kind, package, volume_m3, points: the brand's own data, in its language
    ("PAINT-FAC-10", "Краска фасадная 10 л", "краска", "ведро", 0.010, "40"),
    ("PAINT-INT-3", "Краска интерьерная 3 л", "краска", "банка", 0.003, "12"),
    ("PRIMER-5", "Грунтовка 5 л", "грунтовка", "канистра", 0.005, "15"),
    ("PLASTER-25", "Штукатурка гипсовая 25 кг", "штукатурка", "мешок", 0.020, "1000/m3"),
    ("BOARD-OSB-9", "Плита OSB 9 мм", "плиты", "лист", 0.0268, "900/m3"),
    ("BEAM-150", "Брус 150x150x6000", "пиломатериалы", "штука", 0.135, "300/m3"),
    ("GLUE-TILE-25", "Клей плиточный 25 кг", "клей", "мешок", 0.018, "20"),
    ("SEALANT-300", "Герметик 300 мл", "герметик", "туба", 0.0003, "3"),
]
BATCH_SIZE = 20_000
DAYS = 180
# Every registration runs the ledger and the report rollups: keep the seed quick.
MAX_REGISTRATIONS = 1500


def seed(session: Session, world: DemoWorld) -> None:
    rng = world.rng
    products = [
        issuing.save_product(
            session,
            sku=sku,
            name=name,
            kind=kind,
            package=package,
            volume_m3=volume,
            points=points,
            actor=world.admin,
            source="import",
        )
        for sku, name, kind, package, volume, points in PRODUCTS
    ]
    batches = []
    for index, product in enumerate(products):
        batch = issuing.issue_batch(
            session,
            product,
            BATCH_SIZE,
            distributor="ТД Стройснаб",
            production_lot=f"L-{2026}{index + 1:03d}",
            actor=world.admin,
        )
        issuing.set_batch_status(session, batch, BatchStatus.ACTIVATED, actor=world.admin)
        batches.append(batch)
    printed = issuing.issue_batch(session, products[0], 5_000, production_lot="L-2026999", actor=world.admin)
    issuing.set_batch_status(session, printed, BatchStatus.PRINTED, actor=world.admin)
    voided = issuing.issue_batch(session, products[1], 1_000, production_lot="L-2026998", actor=world.admin)
    issuing.set_batch_status(session, voided, BatchStatus.VOIDED, actor=world.admin)
    issuing.void_range(
        session, batches[0], 19_001, 19_500, reason="Повреждённый рулон этикеток", actor=world.admin
    )
    issuing.issue_batch(session, products[0], 100, is_canary=True, actor=world.admin)

    used: set[tuple[int, int]] = set()
    people = [*world.owners, *world.sellers, *world.individuals]
    rng.shuffle(people)
    made = 0
    for person in people:
        # one phone and one shop connection per person, as in life
        device = f"Mozilla/5.0 (Linux; Android 13; demo-{person.id}) Mobile"
        ip = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        for _ in range(rng.randint(1, 8)):
            batch = rng.choice(batches)
            serial = rng.randint(1, 19_000)  # packages sold in any order, not a roll of labels
            if (batch.id, serial) in used:
                continue
            used.add((batch.id, serial))
            day = (world.now - timedelta(days=rng.randint(1, DAYS))).replace(hour=6, minute=0, second=0)
            at = day + timedelta(minutes=rng.randint(0, 10 * 60))  # shop hours, Moscow time
            services.store_registration(
                session,
                person,
                batch,
                serial,
                channel=rng.choice(("typed", "typed", "link", "scan")),
                ctx=services.RegistrationContext(ip=ip, device=device, at=at),
            )
            made += 1
            if made >= MAX_REGISTRATIONS:
                break
        if made >= MAX_REGISTRATIONS:
            break
    session.flush()

    # A fresh code to try, and its link (what the package's QR code opens).
    demo_batch = batches[0]
    fresh = services.batch_code(demo_batch, BATCH_SIZE - 1)
    world.notes.append(
        f"Codes: {len(products)} products, {len(batches) + 3} batches, {made} registrations. "
        f"Try code {fresh[:4]}-{fresh[4:8]}-{fresh[8:]} or open "
        f"{current_app.config['PUBLIC_URL']}/c/{fresh}"
    )
