"""Where prizes come from: the organizer's warehouse or an external showcase.

A provider lists its goods, places an order and reports an order's status.
Providers are small classes in the `PROVIDERS` registry, keyed by the name a
prize carries in `Prize.provider`. They know nothing about the database:
`catalog.services` decides what a provider's answer means for an order.

Errors say whether trying again can help:
- `ProviderUnavailable`: timeout, connection error, 5xx. The answer is
  unknown, so the points stay reserved and the line is retried with the same
  reference (the external service must treat a known reference as a replay).
- `ProviderRefused`: a definite "no" (4xx). The order is cancelled and refunded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests


class ProviderError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message[:500]


class ProviderUnavailable(ProviderError):
    """No clear answer: try again later."""


class ProviderRefused(ProviderError):
    """A clear refusal: trying again will not help."""


@dataclass(frozen=True)
class Goods:
    sku: str
    name: str
    price_rub: float | None = None
    available: int | None = None


@dataclass(frozen=True)
class Card:
    code: str | None = None
    link: str | None = None


@dataclass(frozen=True)
class ProviderOrder:
    """The provider's view of one order: `done` once the cards are there."""

    external_id: str
    status: str  # "manual", "processing", "done"
    cards: list[Card] = field(default_factory=list)


class Provider:
    name = "base"
    # True when the provider delivers by itself (gift cards); False when the
    # organizer's staff confirm, ship and deliver.
    automatic = False

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def list_goods(self) -> list[Goods]:
        raise NotImplementedError

    def place_order(self, reference: str, sku: str, quantity: int) -> ProviderOrder:
        raise NotImplementedError

    def order_status(self, external_id: str) -> ProviderOrder:
        raise NotImplementedError


class WarehouseProvider(Provider):
    """The organizer's own stock: the staff work the order queue by hand."""

    name = "warehouse"
    automatic = False

    def list_goods(self) -> list[Goods]:
        return []  # the warehouse's goods are the prizes themselves

    def place_order(self, reference: str, sku: str, quantity: int) -> ProviderOrder:
        return ProviderOrder(external_id=reference, status="manual")

    def order_status(self, external_id: str) -> ProviderOrder:
        return ProviderOrder(external_id=external_id, status="manual")


class GiftCardHttpProvider(Provider):
    """An external gift-card service speaking JSON over HTTP.

    GET  {url}/goods              -> {"goods": [{"sku", "name", "price_rub", "available"}]}
    POST {url}/orders             {"reference", "sku", "quantity"}
                                  -> {"id", "status": "processing"|"done", "cards": [{"code", "link"}]}
    GET  {url}/orders/{id}        -> the same shape
    Configured by GIFTCARD_URL, GIFTCARD_TOKEN (sent as a bearer token) and
    GIFTCARD_TIMEOUT (seconds, default 10).
    """

    name = "giftcard_http"
    automatic = True

    @property
    def base_url(self) -> str:
        url = self.config.get("GIFTCARD_URL")
        if not url:
            raise ProviderUnavailable("GIFTCARD_URL is not configured")
        return str(url).rstrip("/")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if self.config.get("GIFTCARD_TOKEN"):
            headers["Authorization"] = f"Bearer {self.config['GIFTCARD_TOKEN']}"
        timeout = float(self.config.get("GIFTCARD_TIMEOUT") or 10)
        try:
            response = requests.request(
                method, self.base_url + path, json=body, headers=headers, timeout=(min(timeout, 5.0), timeout)
            )
        except requests.Timeout as error:
            raise ProviderUnavailable(f"gift-card service timed out: {error}") from error
        except requests.RequestException as error:
            raise ProviderUnavailable(f"gift-card service unreachable: {error}") from error
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderUnavailable(f"gift-card service answered {response.status_code}")
        try:
            data = response.json()
        except ValueError as error:
            raise ProviderUnavailable("gift-card service answered something that is not JSON") from error
        if response.status_code >= 400:
            detail = data.get("error") if isinstance(data, dict) else None
            raise ProviderRefused(
                f"gift-card service refused ({response.status_code}): {detail or ''}".strip()
            )
        if not isinstance(data, dict):
            raise ProviderUnavailable("gift-card service answered an unexpected shape")
        return data

    def list_goods(self) -> list[Goods]:
        data = self._call("GET", "/goods")
        return [
            Goods(
                sku=str(g["sku"]),
                name=str(g.get("name", "")),
                price_rub=g.get("price_rub"),
                available=g.get("available"),
            )
            for g in data.get("goods", [])
            if isinstance(g, dict) and "sku" in g
        ]

    def place_order(self, reference: str, sku: str, quantity: int) -> ProviderOrder:
        data = self._call("POST", "/orders", {"reference": reference, "sku": sku, "quantity": quantity})
        return self._order(data)

    def order_status(self, external_id: str) -> ProviderOrder:
        return self._order(self._call("GET", f"/orders/{requests.utils.quote(external_id, safe='')}"))

    @staticmethod
    def _order(data: dict[str, Any]) -> ProviderOrder:
        if "id" not in data:
            raise ProviderUnavailable("gift-card service answered without an order id")
        cards = [
            Card(code=c.get("code"), link=c.get("link"))
            for c in data.get("cards") or []
            if isinstance(c, dict) and (c.get("code") or c.get("link"))
        ]
        status = "done" if data.get("status") == "done" and cards else "processing"
        return ProviderOrder(external_id=str(data["id"]), status=status, cards=cards)


PROVIDERS: dict[str, type[Provider]] = {
    WarehouseProvider.name: WarehouseProvider,
    GiftCardHttpProvider.name: GiftCardHttpProvider,
}


def get_provider(name: str, config: Mapping[str, Any]) -> Provider:
    try:
        return PROVIDERS[name](config)
    except KeyError:
        raise ProviderRefused(f"unknown provider {name!r}") from None
