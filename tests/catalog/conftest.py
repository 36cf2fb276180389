"""Catalog test helpers: categories, prizes, participants with points."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from catalog.models import Category, Prize, PrizeRegion, PrizeRole
from partner_club.accounts.models import Role
from partner_club.ledger.services import account_for_user, accrue

_seq = itertools.count(1)


class CatalogFactories:
    def __init__(self, make) -> None:
        self.make = make
        self.session = make.session

    def category(self, kind: str = "branded", **kw: Any) -> Category:
        n = next(_seq)
        values = dict(slug=f"cat-{n}", kind=kind, name_en=f"Category {n}", name_ru=f"Категория {n}")
        values.update(kw)
        category = Category(**values)
        self.session.add(category)
        self.session.flush()
        return category

    def prize(
        self,
        *,
        points: int = 100,
        stock: int = 10,
        category: Category | None = None,
        regions=(),
        roles=(),
        **kw: Any,
    ) -> Prize:
        n = next(_seq)
        values = dict(
            category_id=(category or self.category()).id,
            name_en=f"Mug {n}",
            name_ru=f"Кружка {n}",
            description_en="A branded mug",
            description_ru="Кружка с логотипом",
            points=points,
            value_kopecks=50000,
            stock=stock,
            provider="warehouse",
            provider_sku=f"SKU-{n}",
        )
        values.update(kw)
        prize = Prize(**values)
        prize.region_links = [PrizeRegion(region_id=r.id) for r in regions]
        prize.role_links = [PrizeRole(role=Role(role).value) for role in roles]
        self.session.add(prize)
        self.session.flush()
        return prize

    def participant(self, points: int = 1000, role: Role = Role.SELLER, **kw: Any):
        user = self.make.user(role, email=f"p{next(_seq)}@example.com", **kw)
        if points:
            accrue(
                self.session,
                account_for_user(self.session, user),
                points,
                cause_type="adjustment",
                cause_id=None,
                kind="adjustment",
            )
        return user


@pytest.fixture
def cat(make) -> CatalogFactories:
    return CatalogFactories(make)


ADDRESS = "Kazan, Baumana street 12, flat 5"
PHONE = "+7 912 345-67-89"


def points_check(app) -> str:
    """The ledger's own reconciliation (`flask points check`): every balance equals its entries."""
    result = app.test_cli_runner().invoke(args=["points", "check"])
    assert result.exit_code == 0, result.output
    return result.output
