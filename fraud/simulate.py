"""Labelled registration streams for tuning and benchmarking the detectors.

`ensure_world` puts a small simulated world into the configured database
(shops SIM-0001..., a product, per region an activated batch, plus one
batch never shipped and one canary batch); `generate` writes replay events,
one JSON object a line in time order, each with a `label`: "honest" or the
fraud pattern that produced it. Honest shops sell on a daily rhythm (open
08-21 local time, busier at midday and on Saturdays), from stock received as
shuffled consecutive ranges of their region's batch. Fraud patterns:
guessing scripts, label rolls, a leaked unshipped batch, canary codes,
cross-region diversion, device farms, night bursts and velocity spikes.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from codes.models import Batch, BatchStatus, Product
from codes.scheme import ALPHABET, CodeScheme, check_symbol
from partner_club.database import utcnow
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region

HOUR, DAY = 3600, 86400
LOCAL = 3 * HOUR  # the simulated shops keep Moscow time
START = datetime(2026, 1, 5, tzinfo=UTC).timestamp() - LOCAL  # local midnight
BATCH_SIZE = 1 << 30
SIM_SKU = "SIM-BAG-50"
KINDS = ("shop", "shop", "shop", "market", "builders_yard")
PATTERNS = (
    "guessing",
    "roll",
    "leak",
    "canary",
    "cross_region",
    "device_farm",
    "night_burst",
    "velocity",
    "duplicate",
)


@dataclass
class SimShop:
    external_id: str
    region_index: int
    kind: str
    lat: float
    lon: float
    daily: float  # mean sales a day
    sellers: list[str] = field(default_factory=list)
    stock: list[int] = field(default_factory=list)


@dataclass
class World:
    batches: list[tuple[int, int]]  # per region: (batch number, key version) of the activated batch
    unshipped: tuple[int, int]
    canary: tuple[int, int]
    centers: list[tuple[float, float]]
    shops: list[SimShop]


def ensure_world(session: Session, *, shops: int, seed: int = 1, key_version: int = 1) -> World:
    """The simulated shops and batches, created on first use and reused afterwards."""
    rng = random.Random(seed)
    regions = list(session.scalars(select(Region).order_by(Region.id).limit(4)))
    while len(regions) < 3:
        n = len(regions) + 1
        region = Region(
            iso_code=f"XX-SIM{n}",
            country="XX",
            name_en=f"Sim region {n}",
            name_ru=f"Регион {n}",
            bbox=f"{30 + 10 * n},50,{32 + 10 * n},52",
        )
        session.add(region)
        session.flush()
        regions.append(region)
    centers = [_center(r, i) for i, r in enumerate(regions)]
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
    unshipped = batch(regions[0], BatchStatus.PRINTED)
    canary = batch(None, BatchStatus.ACTIVATED, canary=True)
    existing = {
        o.external_id: o for o in session.scalars(select(Outlet).where(Outlet.external_id.like("SIM-%")))
    }
    sim_shops = []
    for i in range(shops):
        external_id = f"SIM-{i + 1:05d}"
        region_index = i % len(regions)
        lat, lon = centers[region_index]
        kind = rng.choice(KINDS)
        shop = SimShop(
            external_id,
            region_index,
            kind,
            lat + rng.uniform(-0.3, 0.3),
            lon + rng.uniform(-0.3, 0.3),
            daily=min(40.0, rng.lognormvariate(math.log(4), 0.7) * (2 if kind == "builders_yard" else 1)),
        )
        shop.sellers = [f"{external_id}-S{k}" for k in range(1 + min(3, int(shop.daily // 5)))]
        if external_id not in existing:
            session.add(
                Outlet(
                    external_id=external_id,
                    name=f"Simulated shop {i + 1}",
                    kind=kind,
                    region_id=regions[region_index].id,
                    lat=round(shop.lat, 5),
                    lon=round(shop.lon, 5),
                )
            )
        sim_shops.append(shop)
    session.flush()
    return World(batches, unshipped, canary, centers, sim_shops)


def _center(region: Region, index: int) -> tuple[float, float]:
    try:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in (region.bbox or "").split(","))
        return (min_lat + max_lat) / 2, (min_lon + max_lon) / 2
    except ValueError:
        return 50.0 + index, 40.0 + 5 * index


class Generator:
    """Writes the events of `days` days: honest traffic plus scheduled fraud campaigns."""

    def __init__(self, world: World, scheme: CodeScheme, *, seed: int = 1, fraud_share: float = 0.08) -> None:
        self.world, self.scheme, self.rng = world, scheme, random.Random(seed)
        self.fraud_share = fraud_share
        self.next_serial = [1] * len(world.batches)  # shipped ranges grow from the start
        self.roll_serial = [BATCH_SIZE // 2] * len(world.batches)  # stolen rolls come from far away
        self.leak_serial, self.canary_serial = 1, 1
        self.registered: list[tuple[str, str, str]] = []  # (code, participant, outlet) for duplicates
        self.counter = 0
        self.mobile_ips = [
            f"100.{64 + i // 62500}.{i // 250 % 250}.{i % 250}"
            for i in range(max(5000, len(world.shops) * 20))
        ]

    def clock(self, base: float, i: int, low: float, high: float) -> float:
        """The time of a campaign's i-th event: gaps of low..high seconds, in order."""
        if i == 0:
            self._clock = base
        else:
            self._clock += self.rng.uniform(low, high)
        return self._clock

    def code(self, batch: tuple[int, int], serial: int) -> str:
        return self.scheme.encode(batch[0], serial, batch[1])

    def take_range(self, region: int, size: int) -> list[int]:
        first = self.next_serial[region]
        self.next_serial[region] += size
        serials = list(range(first, first + size))
        self.rng.shuffle(serials)
        return serials

    def event(
        self,
        ts: float,
        participant: str,
        shop: SimShop,
        code: str,
        label: str,
        *,
        channel: str = "qr",
        ip: str | None = None,
        device: str | None = None,
        near: bool = True,
    ) -> dict:
        self.counter += 1
        lat, lon = (
            (shop.lat + self.rng.uniform(-0.02, 0.02), shop.lon + self.rng.uniform(-0.02, 0.02))
            if near
            else (None, None)
        )
        event = {
            "id": f"e{self.counter:08d}",
            "ts": _iso(ts),
            "participant": participant,
            "outlet": shop.external_id,
            "code": code,
            "channel": channel,
            "ip": ip or self.rng.choice(self.mobile_ips),
            "device": device or f"phone-{participant}",
            "label": label,
        }
        if lat is not None and self.rng.random() < 0.5:
            event["lat"], event["lon"] = round(lat, 5), round(lon, 5)
        return event

    # --- honest shops ---------------------------------------------------------
    def honest_day(self, day: int) -> Iterator[dict]:
        rng, weekday = self.rng, day % 7
        for shop in self.world.shops:
            sales = _poisson(rng, shop.daily * (1.4 if weekday == 5 else 0.6 if weekday == 6 else 1.0))
            for _ in range(sales):
                t = (
                    START + day * DAY + rng.uniform(8, 21) * HOUR
                    if rng.random() < 0.4
                    else START + day * DAY + min(20.9, max(8.0, rng.gauss(13.5, 2.5))) * HOUR
                )
                seller = rng.choice(shop.sellers)
                channel = rng.choices(("qr", "typed", "link"), (6, 3, 1))[0]
                wifi = rng.random() < 0.7
                items = 1 if rng.random() < 0.75 else rng.randint(2, 6)
                for _ in range(items):
                    if len(shop.stock) < 1:
                        shop.stock = self.take_range(shop.region_index, rng.randint(40, 160))
                    code = self.code(self.world.batches[shop.region_index], shop.stock.pop())
                    if channel == "typed" and rng.random() < 0.02:  # a typo the check symbol catches
                        yield self.event(
                            t,
                            seller,
                            shop,
                            _typo(rng, code),
                            "honest",
                            channel=channel,
                            ip=f"wifi-{shop.external_id}" if wifi else None,
                        )
                        t += rng.uniform(8, 20)
                    yield self.event(
                        t,
                        seller,
                        shop,
                        code,
                        "honest",
                        channel=channel,
                        ip=f"wifi-{shop.external_id}" if wifi else None,
                    )
                    if rng.random() < 0.003:  # pressed twice
                        yield self.event(
                            t + rng.uniform(120, 3000), seller, shop, code, "honest", channel=channel
                        )
                    self.registered.append((code, seller, shop.external_id))
                    t += rng.uniform(10, 30) if channel == "typed" else rng.uniform(2, 8)
        if len(self.registered) > 50000:
            del self.registered[:25000]

    # --- fraud campaigns ------------------------------------------------------
    def campaign(self, pattern: str, day: int, n: int) -> Iterator[dict]:
        rng, world = self.rng, self.world
        shop = rng.choice(world.shops)
        base = START + day * DAY + rng.uniform(9, 17) * HOUR
        who = f"F{self.counter}"
        batch = world.batches[shop.region_index]
        if pattern == "guessing":
            ip, accounts = (
                f"198.51.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                [f"{who}-G{k}" for k in range(rng.choice((1, 1, 6)))],
            )
            for i in range(n):
                data = "".join(rng.choice(ALPHABET) for _ in range(12))
                code = data + (check_symbol(data) if rng.random() < 0.7 else rng.choice(ALPHABET))
                account = accounts[i % len(accounts)]
                yield self.event(
                    self.clock(base, i, 1, 4),
                    account,
                    shop,
                    code,
                    pattern,
                    channel="typed",
                    ip=ip,
                    device=f"bot-{account}",
                    near=False,
                )
        elif pattern in ("roll", "night_burst", "velocity", "cross_region", "device_farm", "leak", "canary"):
            yield from self._genuine_campaign(pattern, shop, base, who, batch, day, n)
        elif pattern == "duplicate":
            for i in range(min(n, len(self.registered))):
                code, _owner, _outlet = rng.choice(self.registered)
                yield self.event(self.clock(base, i, 30, 300), f"{who}-D", shop, code, pattern)

    def _genuine_campaign(self, pattern, shop, base, who, batch, day, n) -> Iterator[dict]:
        rng, world = self.rng, self.world
        if pattern == "roll":
            first = self.roll_serial[shop.region_index]
            self.roll_serial[shop.region_index] += n + 10
            seller = rng.choice(shop.sellers)
            for i in range(n):
                yield self.event(
                    self.clock(base, i, 4, 15), seller, shop, self.code(batch, first + i), pattern
                )
            return
        if pattern == "leak":
            for i in range(n):
                self.leak_serial += rng.randint(1, 50)
                yield self.event(
                    self.clock(base, i, 20, 200),
                    f"{who}-L{i % 3}",
                    shop,
                    self.code(world.unshipped, self.leak_serial),
                    pattern,
                    channel="typed",
                )
            return
        if pattern == "canary":
            for i in range(n):
                self.canary_serial += rng.randint(1, 50)
                yield self.event(
                    self.clock(base, i, 20, 200),
                    f"{who}-C",
                    shop,
                    self.code(world.canary, self.canary_serial),
                    pattern,
                    channel="typed",
                )
            return
        if pattern == "cross_region":
            others = [s for s in world.shops if s.region_index != shop.region_index] or world.shops
            target = rng.choice(others)
            serials = self.take_range(shop.region_index, n)
            seller = rng.choice(target.sellers)
            for i, serial in enumerate(serials):
                yield self.event(
                    self.clock(base, i, 30, 300), seller, target, self.code(batch, serial), pattern
                )
            return
        serials = self.take_range(shop.region_index, n)
        if pattern == "device_farm":
            shops = rng.sample(world.shops, 3)
            accounts = [(f"{who}-A{k}", shops[k % 3]) for k in range(rng.randint(8, 16))]
            for i, serial in enumerate(serials):
                account, farm_shop = accounts[i % len(accounts)]
                yield self.event(
                    self.clock(base, i, 20, 90),
                    account,
                    farm_shop,
                    self.code(batch, serial),
                    pattern,
                    device=f"farm-{who}",
                    near=False,
                )
            return
        if pattern == "night_burst":
            base = START + day * DAY + rng.uniform(0.5, 3.0) * HOUR
            seller = rng.choice(shop.sellers)
            for i, serial in enumerate(serials):
                yield self.event(self.clock(base, i, 20, 80), seller, shop, self.code(batch, serial), pattern)
            return
        # velocity: a shop's sellers suddenly register a heap of genuine codes at a human pace
        for i, serial in enumerate(serials):
            seller = shop.sellers[i % len(shop.sellers)]
            yield self.event(self.clock(base, i, 10, 40), seller, shop, self.code(batch, serial), pattern)

    def day(self, day: int, fraud_budget: int) -> list[dict]:
        events = list(self.honest_day(day))
        if day >= 7:  # a clean first week gives the shops a usual day
            while fraud_budget > 0:
                pattern = self.rng.choice(PATTERNS)
                n = min(
                    fraud_budget,
                    self.rng.randint(30, 150) if pattern != "duplicate" else self.rng.randint(5, 20),
                )
                events.extend(self.campaign(pattern, day, n))
                fraud_budget -= n
        events.sort(key=lambda e: e["ts"])
        return events


def generate(
    world: World,
    scheme: CodeScheme,
    out: TextIO,
    *,
    events: int,
    days: int = 35,
    seed: int = 1,
    fraud_share: float = 0.08,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Writes about `events` labelled events; returns counts per label."""
    gen = Generator(world, scheme, seed=seed, fraud_share=fraud_share)
    counts: dict[str, int] = {}
    fraud_days = days - 7
    per_day_fraud = int(events * fraud_share / max(1, fraud_days))
    carry: list[dict] = []  # campaigns running past midnight go out with the next day
    for day in range(days):
        events = sorted(carry + gen.day(day, per_day_fraud if day >= 7 else 0), key=lambda e: e["ts"])
        end = _iso(START + (day + 1) * DAY) if day < days - 1 else "~"
        carry = [e for e in events if e["ts"] >= end]
        for event in events:
            if event["ts"] >= end:
                break
            counts[event["label"]] = counts.get(event["label"], 0) + 1
            out.write(json.dumps(event, separators=(",", ":")) + "\n")
        if progress:
            progress(day + 1, days)
    return counts


def shops_for(events: int, days: int = 35) -> int:
    """How many shops give about `events` events over `days` (a shop registers ~10.7 codes a day)."""
    return max(12, int(events * 0.92 / days / 10.7))


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
