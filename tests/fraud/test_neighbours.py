"""Neighbouring regions from the bundled shapes: a city and its oblast above all."""

from __future__ import annotations

from sqlalchemy import select

from fraud.neighbours import neighbour_pairs
from partner_club.regions.models import Region
from partner_club.regions.services import import_bundled_regions


def test_neighbours_from_the_bundled_region_shapes(db):
    import_bundled_regions(db.session)
    ids = dict(db.session.execute(select(Region.iso_code, Region.id)).all())
    pairs = neighbour_pairs(db.session)

    def near(a: str, b: str) -> bool:
        return frozenset((ids[a], ids[b])) in pairs

    assert near("RU-SPE", "RU-LEN") and near("RU-MOW", "RU-MOS")
    assert near("RU-TA", "RU-UD") and near("RU-LEN", "RU-NGR")  # shared borders
    assert not near("RU-SPE", "RU-MOS") and not near("RU-TA", "RU-KGD") and not near("RU-MOW", "RU-LEN")
