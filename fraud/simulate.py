"""Labelled registration streams that look like honest trade in building materials, and fraud.

`ensure_world` puts a simulated world into the configured database: shops
SIM-00001... in seven regions (Saint Petersburg and Leningrad oblast, Moscow
and Moscow oblast, three far regions; the bundled regions are imported when
missing), a product, an activated batch per region, one batch never shipped
and one canary batch. `generate` writes replay events, one JSON object a line
in time order, each with a `label`: "honest" or the fraud pattern. An honest
typo or second press of a button is labelled "honest" with `"slip": true`: it
is refused as it should be, and the bench counts it apart.

Honest trade (every knob in `TradeParams`):

- a shop gets a delivery every few days: a pallet of a few to ~60 packages
  (larger with the season), one run of consecutive serials or a few, mostly
  from its own region's batch and sometimes from a neighbouring region's;
- most shops register a delivery at unpacking: one person, several seconds to
  a minute a package; the others register each package when it sells;
- staff share a shop's fixed line, and sellers on mobile data share
  carrier-grade NAT addresses with strangers of other shops; some shops keep
  one phone that all their staff use;
- some shops join weeks after the programme starts, with no history.

Fraud (`PATTERNS`): a roll of labels (hundreds of consecutive serials at
machine pace), traded codes from far regions at random serials, a spike many
times the shop's volume, a device farm (one device, accounts in many shops),
night bots, leaked codes of an unshipped batch, canary codes, guessers and
re-registered codes.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from codes.models import Batch, BatchStatus, Product
from codes.scheme import ALPHABET, CodeScheme, check_symbol
from fraud.neighbours import neighbour_pairs
from partner_club.database import utcnow
from partner_club.outlets.models import Outlet
from partner_club.regions import geo
from partner_club.regions.models import Region
from partner_club.regions.services import import_bundled_regions

HOUR, DAY = 3600, 86400
LOCAL = 3 * HOUR  # the simulated shops keep Moscow time
START = datetime(2026, 3, 2, tzinfo=UTC).timestamp() - LOCAL  # local midnight
BATCH_SIZE = 1 << 30
SIM_SKU = "SIM-BAG-50"
KINDS = ("shop", "shop", "shop", "market", "builders_yard")
# (ISO code, share of shops): two cities with their oblasts, three far regions.
MARKETS = (
    ("RU-MOW", 0.2),
    ("RU-MOS", 0.18),
    ("RU-SPE", 0.14),
    ("RU-LEN", 0.1),
    ("RU-TA", 0.13),
    ("RU-NVS", 0.12),
    ("RU-KDA", 0.13),
)
PATTERNS = {  # pattern: (smallest campaign, largest campaign); campaigns deal from a shuffled deck
    "roll": (200, 600),
    "traded": (20, 80),
    "spike": (150, 400),
    "farm": (40, 150),
    "night_bot": (40, 150),
    "leak": (20, 80),
    "canary": (5, 30),
    "guessing": (30, 150),
    "duplicate": (5, 20),
}


@dataclass
class TradeParams:
    """How honest trade looks; the bench varies these between worlds."""

    pallet_median: float = 18  # packages in a delivery (log-normal)
    pallet_max: int = 60
    season: float = 0.3  # deliveries grow by up to this share mid-period
    delivery_days: tuple[int, int] = (2, 7)  # days between deliveries
    unpack_seconds: tuple[float, float, float] = (5, 15, 60)  # shortest, typical, longest
    on_sale_share: float = 0.25  # shops that register each package when it sells
    mobile_share: float = 0.4  # sellers' traffic on mobile data (carrier-grade NAT)
    cgnat_pool: int = 300  # addresses the carriers share among all sellers
    shared_phone_share: float = 0.3  # shops whose staff share one phone
    late_share: float = 0.125  # shops that join weeks after the start
    neighbour_share: float = 0.06  # deliveries from a neighbouring region's distributor
    typed_share: float = 0.15
    typo_rate: float = 0.02
    fraud_share: float = 0.06


_BASE = TradeParams()
WORLDS: dict[str, tuple[int, TradeParams, bool]] = {  # name: (seed, params, the rules were tuned on it)
    "base": (11, _BASE, True),
    "cgnat": (12, replace(_BASE, mobile_share=0.85, cgnat_pool=25, shared_phone_share=0.6), False),
    "late": (13, replace(_BASE, late_share=0.4), False),
    "season": (14, replace(_BASE, season=1.0, pallet_median=30, pallet_max=120), False),
    "neighbours": (15, replace(_BASE, neighbour_share=0.3), False),
    "small": (
        16,
        replace(_BASE, pallet_median=8, delivery_days=(1, 3), on_sale_share=0.6, unpack_seconds=(4, 10, 40)),
        False,
    ),
}


@dataclass
class SimShop:
    external_id: str
    region_index: int
    kind: str
    lat: float
    lon: float
    pallet: float  # median delivery
    every: tuple[int, int]
    joins: int  # the day the shop starts registering
    unpacks: bool  # registers a delivery at once (else each package when it sells)
    phone: str | None  # the staff's shared phone
    sellers: list[str] = field(default_factory=list)
    next_delivery: int = 0
    stock: list[tuple[int, int]] = field(default_factory=list)  # (region index, serial)


@dataclass
class World:
    batches: list[tuple[int, int]]  # per region: (batch number, key version) of the activated batch
    unshipped: tuple[int, int]
    canary: tuple[int, int]
    shops: list[SimShop]
    neighbours: dict[int, list[int]]  # region index: neighbouring region indexes
    params: TradeParams


def ensure_world(
    session: Session, *, shops: int, seed: int = 1, key_version: int = 1, params: TradeParams | None = None
) -> World:
    """The simulated shops and batches, created on first use and reused afterwards."""
    params = params or TradeParams()
    rng = random.Random(seed)
    wanted = [iso for iso, _share in MARKETS]
    found = {r.iso_code: r for r in session.scalars(select(Region).where(Region.iso_code.in_(wanted)))}
    if len(found) < len(wanted):
        import_bundled_regions(session)
        found = {r.iso_code: r for r in session.scalars(select(Region).where(Region.iso_code.in_(wanted)))}
    regions = [found[iso] for iso in wanted]
    pairs = neighbour_pairs(session)
    neighbours = {
        i: [j for j, other in enumerate(regions) if frozenset((r.id, other.id)) in pairs]
        for i, r in enumerate(regions)
    }
    batches, unshipped, canary = _batches(session, regions, key_version)
    existing = {
        o.external_id: o for o in session.scalars(select(Outlet).where(Outlet.external_id.like("SIM-%")))
    }
    shapes = [geo.shape_of(r.geometry) for r in regions]
    sim_shops = []
    for i in range(shops):
        external_id = f"SIM-{i + 1:05d}"
        region_index = rng.choices(range(len(regions)), [s for _iso, s in MARKETS])[0]
        kind = rng.choice(KINDS)
        lat, lon = geo.random_point(shapes[region_index], rng)
        low, high = params.delivery_days
        shop = SimShop(
            external_id,
            region_index,
            kind,
            lat,
            lon,
            pallet=params.pallet_median
            * rng.lognormvariate(0, 0.5)
            * (1.5 if kind == "builders_yard" else 1),
            every=(low, rng.randint(low, high)),
            joins=rng.randint(14, 35) if rng.random() < params.late_share else 0,
            unpacks=rng.random() >= params.on_sale_share,
            phone=f"phone-{external_id}" if rng.random() < params.shared_phone_share else None,
        )
        shop.next_delivery = shop.joins + rng.randint(0, shop.every[1])
        shop.sellers = [f"{external_id}-S{k}" for k in range(rng.choice((1, 1, 2, 2, 3, 4)))]
        if external_id not in existing:
            session.add(
                Outlet(
                    external_id=external_id,
                    name=f"Simulated shop {i + 1}",
                    kind=kind,
                    region_id=regions[region_index].id,
                    lat=round(lat, 5),
                    lon=round(lon, 5),
                )
            )
        sim_shops.append(shop)
    session.flush()
    return World(batches, unshipped, canary, sim_shops, neighbours, params)


def _batches(session: Session, regions: list[Region], key_version: int):
    product = session.scalar(select(Product).where(Product.sku == SIM_SKU))
    if product is None:
        product = Product(sku=SIM_SKU, name="Simulated bag 50 kg", rule_value=10)
        session.add(product)
        session.flush()
    number = (session.scalar(select(func.max(Batch.number))) or 0) + 1

    def batch(region: Region | None, status: BatchStatus, canary: bool = False) -> tuple[int, int]:
        nonlocal number
        found = session.scalar(
            select(Batch).where(
                Batch.product_id == product.id,
                Batch.status == status.value,
                Batch.is_canary == canary,
                Batch.region_id == (region.id if region else None),
            )
        )
        if found is None:
            found = Batch(
                number=number,
                product_id=product.id,
                key_version=key_version,
                count=BATCH_SIZE,
                region_id=region.id if region else None,
                status=status.value,
                is_canary=canary,
                activated_at=utcnow().replace(year=2025) if status is BatchStatus.ACTIVATED else None,
            )
            session.add(found)
            session.flush()
            number += 1
        return found.number, found.key_version

    batches = [batch(r, BatchStatus.ACTIVATED) for r in regions]
    return batches, batch(regions[0], BatchStatus.PRINTED), batch(None, BatchStatus.ACTIVATED, canary=True)


class Generator:
    """Writes the events of `days` days: honest trade plus scheduled fraud campaigns."""

    def __init__(self, world: World, scheme: CodeScheme, *, seed: int = 1, days: int = 35) -> None:
        self.world, self.scheme, self.rng, self.days = world, scheme, random.Random(seed), days
        self.p = world.params
        self.next_serial = [1] * len(world.batches)  # shipped pallets come off the line in order
        self.roll_serial = [BATCH_SIZE // 2] * len(world.batches)  # stolen rolls come from far away
        self.registered: list[str] = []
        self.known: list[str] = []
        self.deck: list[str] = []
        self.counter = 0
        self.cgnat = [f"100.64.{i // 250}.{i % 250 + 1}" for i in range(self.p.cgnat_pool)]

    def code(self, batch: tuple[int, int], serial: int) -> str:
        return self.scheme.encode(batch[0], serial, batch[1])

    def event(self, ts, participant, shop, code, label, *, channel="qr", ip=None, device=None, near=True):
        self.counter += 1
        event = {
            "id": f"e{self.counter:08d}",
            "ts": _iso(ts),
            "participant": participant,
            "outlet": shop.external_id,
            "code": code,
            "channel": channel,
            "ip": ip or self.rng.choice(self.cgnat),
            "device": device or f"phone-{participant}",
            "label": label,
        }
        if near and self.rng.random() < 0.5:
            event["lat"] = round(shop.lat + self.rng.uniform(-0.02, 0.02), 5)
            event["lon"] = round(shop.lon + self.rng.uniform(-0.02, 0.02), 5)
        return event

    # --- honest trade ---------------------------------------------------------
    def season(self, day: int) -> float:
        return 1 + self.p.season * math.sin(math.pi * day / max(1, self.days))

    def deliver(self, shop: SimShop, day: int) -> list[tuple[int, int]]:
        """A pallet: one to three runs of consecutive serials from one distributor."""
        rng, p = self.rng, self.p
        size = round(shop.pallet * self.season(day) * rng.lognormvariate(0, 0.35))
        size = max(3, min(size, round(p.pallet_max * self.season(day))))
        source = shop.region_index
        if self.world.neighbours[source] and rng.random() < p.neighbour_share:
            source = rng.choice(self.world.neighbours[source])
        runs = rng.choices((1, 2, 3), (6, 3, 1))[0]
        cuts = sorted(rng.sample(range(1, size), min(runs - 1, size - 1)))
        serials: list[tuple[int, int]] = []
        for low, high in zip([0, *cuts], [*cuts, size], strict=True):
            first = self.next_serial[source]
            self.next_serial[source] += (high - low) + rng.randint(0, 400)  # other shops' pallets between
            block = list(range(first, first + high - low))
            if rng.random() < 0.4:  # unpacked layer by layer: in order within a few packages
                block = [
                    s
                    for k in range(0, len(block), 5)
                    for s in rng.sample(block[k : k + 5], len(block[k : k + 5]))
                ]
            serials.extend((source, s) for s in block)
        return serials

    def honest_day(self, day: int) -> Iterator[dict]:
        rng = self.rng
        for shop in self.world.shops:
            if day < shop.joins:
                continue
            if day >= shop.next_delivery and day % 7 != 6:  # no deliveries on Sundays
                shop.next_delivery = day + rng.randint(*shop.every)
                pallet = self.deliver(shop, day)
                if shop.unpacks:
                    t = START + day * DAY + rng.uniform(8, 18) * HOUR
                    yield from self.session(shop, pallet, t)
                    continue
                shop.stock.extend(pallet)
            if shop.stock:
                sells = min(
                    len(shop.stock), _poisson(rng, shop.pallet / sum(shop.every) * 2 * self.season(day))
                )
                for _ in range(sells):
                    t = START + day * DAY + rng.uniform(9, 20) * HOUR
                    yield from self.session(shop, [shop.stock.pop(0)], t)

    def session(self, shop: SimShop, serials: list[tuple[int, int]], t: float) -> Iterator[dict]:
        """One person registering packages: a whole pallet at unpacking pace, or one sale."""
        rng, p = self.rng, self.p
        seller = rng.choice(shop.sellers)
        device = shop.phone or f"phone-{seller}"
        ip = rng.choice(self.cgnat) if rng.random() < p.mobile_share else f"fixed-{shop.external_id}"
        typed = rng.random() < p.typed_share
        channel = "typed" if typed else rng.choice(("qr", "qr", "qr", "link"))
        fastest, typical, slowest = p.unpack_seconds
        for region_index, serial in serials:
            code = self.code(self.world.batches[region_index], serial)
            if typed and rng.random() < p.typo_rate:  # a typo the check symbol catches
                yield self.event(
                    t, seller, shop, _typo(rng, code), "honest", channel=channel, ip=ip, device=device
                ) | {"slip": True}
                t += rng.uniform(8, 20)
            yield self.event(t, seller, shop, code, "honest", channel=channel, ip=ip, device=device)
            if rng.random() < 0.002:  # pressed twice
                yield self.event(
                    t + rng.uniform(2, 30),
                    seller,
                    shop,
                    code,
                    "honest",
                    channel=channel,
                    ip=ip,
                    device=device,
                ) | {"slip": True}
            self.registered.append(code)
            gap = typical * rng.lognormvariate(0, 0.5) + (10 if typed else 0)
            t += min(slowest, max(fastest, gap))

    # --- fraud campaigns ------------------------------------------------------
    def campaign(self, pattern: str, day: int, n: int) -> Iterator[dict]:
        rng, world = self.rng, self.world
        shops = [s for s in world.shops if s.joins <= day] or world.shops
        shop = rng.choice(shops)
        t = START + day * DAY + rng.uniform(9, 17) * HOUR
        who = f"F{self.counter}"
        batch = world.batches[shop.region_index]
        seller = rng.choice(shop.sellers)

        def paced(low: float, high: float) -> Iterator[float]:
            nonlocal t
            for _ in range(n):
                yield t
                t += rng.uniform(low, high)

        if pattern == "roll":  # a stolen roll of labels, scanned as fast as the phone reads them
            first = self.roll_serial[shop.region_index]
            self.roll_serial[shop.region_index] += n + 10
            for i, ts in enumerate(paced(1, 3)):
                yield self.event(ts, seller, shop, self.code(batch, first + i), pattern)
        elif pattern == "traded":  # codes bought from a far region, at random serials
            far = [
                i
                for i in range(len(world.batches))
                if i != shop.region_index and i not in world.neighbours[shop.region_index]
            ]
            source = world.batches[rng.choice(far)]
            for ts in paced(20, 120):
                yield self.event(
                    ts, seller, shop, self.code(source, rng.randrange(1, BATCH_SIZE // 2)), pattern
                )
        elif pattern == "spike":  # many times the shop's volume, at a human pace, bought codes
            for i, ts in enumerate(paced(8, 30)):
                yield self.event(
                    ts,
                    shop.sellers[i % len(shop.sellers)],
                    shop,
                    self.code(batch, rng.randrange(1, BATCH_SIZE // 2)),
                    pattern,
                )
        elif pattern == "farm":  # one device behind accounts of many shops
            region = [s for s in shops if s.region_index == shop.region_index]
            accounts = [(f"{who}-A{k}", rng.choice(region)) for k in range(rng.randint(6, 14))]
            for i, ts in enumerate(paced(20, 90)):
                account, farm_shop = accounts[i % len(accounts)]
                code = self.code(batch, rng.randrange(1, BATCH_SIZE // 2))
                yield self.event(ts, account, farm_shop, code, pattern, device=f"farm-{who}", near=False)
        elif pattern == "night_bot":  # a script at night, at machine pace
            t = START + day * DAY + rng.uniform(0.5, 3.5) * HOUR
            for ts in paced(2, 6):
                yield self.event(
                    ts, seller, shop, self.code(batch, rng.randrange(1, BATCH_SIZE // 2)), pattern, near=False
                )
        elif pattern in ("leak", "canary"):
            source = world.unshipped if pattern == "leak" else world.canary
            for ts in paced(20, 200):
                yield self.event(
                    ts,
                    f"{who}-L",
                    shop,
                    self.code(source, rng.randrange(1, BATCH_SIZE)),
                    pattern,
                    channel="typed",
                )
        elif pattern == "guessing":
            accounts = [f"{who}-G{k}" for k in range(rng.choice((1, 1, 6)))]
            ip = f"198.51.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            for i, ts in enumerate(paced(1, 4)):
                data = "".join(rng.choice(ALPHABET) for _ in range(12))
                code = data + (check_symbol(data) if rng.random() < 0.7 else rng.choice(ALPHABET))
                account = accounts[i % len(accounts)]
                yield self.event(
                    ts,
                    account,
                    shop,
                    code,
                    pattern,
                    channel="typed",
                    ip=ip,
                    device=f"bot-{account}",
                    near=False,
                )
        elif pattern == "duplicate":
            for ts in paced(30, 300):
                if self.known:
                    yield self.event(ts, f"{who}-D", shop, rng.choice(self.known), pattern)

    def day(self, day: int, fraud_due: float) -> tuple[list[dict], float]:
        """The day's events and the fraud still due: a campaign runs to its end and is paid
        for by the following days."""
        if len(self.registered) > 50000:
            del self.registered[:25000]
        known = len(self.registered)  # re-registered codes were registered before today
        events = list(self.honest_day(day))
        self.known = self.registered[:known]
        while day >= 7 and fraud_due > 0:  # a clean first week gives the shops a history
            if not self.deck:  # every pattern once before any twice: each world sees them all
                self.deck = list(PATTERNS)
                self.rng.shuffle(self.deck)
            pattern = self.deck.pop()
            n = self.rng.randint(*PATTERNS[pattern])
            events.extend(self.campaign(pattern, day, n))
            fraud_due -= n
        events.sort(key=lambda e: e["ts"])
        return events, fraud_due


def generate(
    world: World,
    scheme: CodeScheme,
    out: TextIO,
    *,
    events: int,
    days: int = 35,
    seed: int = 1,
    fraud_share: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Writes the world's honest trade for `days` days plus fraud campaigns of about
    `fraud_share` of `events`; returns counts per label."""
    share = world.params.fraud_share if fraud_share is None else fraud_share
    gen = Generator(world, scheme, seed=seed, days=days)
    counts: dict[str, int] = {}
    per_day_fraud = int(events * share / max(1, days - 7))
    carry: list[dict] = []  # campaigns running past midnight go out with the next day
    due = 0.0
    for day in range(days):
        due += per_day_fraud if day >= 7 else 0
        today, due = gen.day(day, due)
        batch = sorted(carry + today, key=lambda e: e["ts"])
        end = _iso(START + (day + 1) * DAY) if day < days - 1 else "~"
        carry = [e for e in batch if e["ts"] >= end]
        for event in batch:
            if event["ts"] >= end:
                break
            counts[event["label"]] = counts.get(event["label"], 0) + 1
            out.write(json.dumps(event, separators=(",", ":")) + "\n")
        if progress:
            progress(day + 1, days)
    return counts


def shops_for(events: int, days: int = 35, params: TradeParams | None = None) -> int:
    """About how many shops give `events` events over `days` (measured: a shop registers about
    1.1 of its median pallets every `delivery_days` mean interval)."""
    params = params or TradeParams()
    low, high = params.delivery_days
    interval = (low + (low + high) / 2) / 2
    per_day = 1.1 * params.pallet_median * (1 + params.season / 2) / interval
    return max(12, int(events * (1 - params.fraud_share) / days / per_day))


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _typo(rng: random.Random, code: str) -> str:
    i = rng.randrange(len(code))
    return code[:i] + rng.choice([c for c in ALPHABET if c != code[i]]) + code[i + 1 :]


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
