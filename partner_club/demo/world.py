"""What the core demo seeder built, handed to each package's own seeder."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from partner_club.accounts.models import User
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region, Territory


@dataclass
class DemoWorld:
    rng: random.Random
    now: datetime
    admin: User
    head_office: User | None = None
    # The one password every demo account shares (printed with the logins).
    password: str = ""
    regions: list[Region] = field(default_factory=list)
    managers: list[User] = field(default_factory=list)
    territories: list[Territory] = field(default_factory=list)
    reps: list[User] = field(default_factory=list)
    outlets: list[Outlet] = field(default_factory=list)
    owners: list[User] = field(default_factory=list)
    sellers: list[User] = field(default_factory=list)
    # People who joined individually: attached to a rep's territory, no shop.
    individuals: list[User] = field(default_factory=list)
    # Printed at the end: role -> (login, password); packages may add lines.
    logins: dict[str, tuple[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
