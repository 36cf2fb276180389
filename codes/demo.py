"""Demo data of the codes package, loaded by `flask demo seed` after the core world."""
from __future__ import annotations

from sqlalchemy.orm import Session

from partner_club.demo.world import DemoWorld


def seed(session: Session, world: DemoWorld) -> None:
    """Nothing yet: the codes package adds its demo data here."""
