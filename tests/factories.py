"""Builders for test objects with sensible defaults; every argument overridable."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from partner_club.accounts.models import Role, User, UserStatus
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region, Territory

PASSWORD = "correct-horse-9"
_seq = itertools.count(1)

# A square around Kazan, good enough for a region in tests.
SQUARE = '{"type": "Polygon", "coordinates": [[[48.0, 55.0], [50.0, 55.0], [50.0, 56.5], [48.0, 56.5], [48.0, 55.0]]]}'


class Factories:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _save(self, obj: Any) -> Any:
        self.session.add(obj)
        self.session.flush()
        return obj

    def region(self, iso_code: str | None = None, **kw: Any) -> Region:
        n = next(_seq)
        iso_code = iso_code or f"RU-T{n}"
        values = dict(
            iso_code=iso_code,
            country=iso_code[:2],
            name_en=f"Region {n}",
            name_ru=f"Регион {n}",
            geometry=SQUARE,
            bbox="48.0,55.0,50.0,56.5",
        )
        values.update(kw)
        return self._save(Region(**values))

    def territory(self, region: Region | None = None, rep: User | None = None, **kw: Any) -> Territory:
        region = region or self.region()
        values = dict(region_id=region.id, name=f"Territory {next(_seq)}", rep_id=rep.id if rep else None)
        values.update(kw)
        return self._save(Territory(**values))

    def outlet(self, region: Region | None = None, territory: Territory | None = None, **kw: Any) -> Outlet:
        if territory is not None:
            region = region or territory.region
        region = region or self.region()
        n = next(_seq)
        values = dict(
            external_id=f"EXT-{n}",
            name=f"Shop {n}",
            legal_name=f"LLC Shop {n}",
            tax_number=f"{1600000000 + n}",
            address=f"{n} Main street",
            kind="shop",
            region_id=region.id,
            territory_id=territory.id if territory else None,
            lat=55.79,
            lon=49.12,
        )
        values.update(kw)
        return self._save(Outlet(**values))

    def user(
        self,
        role: Role | str = Role.SELLER,
        *,
        outlet: Outlet | None = None,
        password: str = PASSWORD,
        login: str | None = None,
        **kw: Any,
    ) -> User:
        role = Role(role)
        if role in (Role.OWNER, Role.SELLER) and outlet is None and "territory_id" not in kw:
            outlet = self.outlet()
        n = next(_seq)
        values = dict(
            login=login or f"person{n}@example.com",
            role=role.value,
            full_name=f"Person {n}",
            status=UserStatus.ACTIVE.value,
            outlet_id=outlet.id if outlet else None,
        )
        values.update(kw)
        user = User(**values)
        user.set_password(password)
        return self._save(user)

    def rep_with_outlet(self) -> tuple[User, Territory, Outlet]:
        """A rep, their territory, and one shop in it."""
        rep = self.user(Role.REP)
        territory = self.territory(rep=rep)
        return rep, territory, self.outlet(territory=territory)
