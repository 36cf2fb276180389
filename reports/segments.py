"""The RFM classes of shops, offered to the mailings' segments (a hook the core offers)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from partner_club.mailings.segments import OutletClasses, provide_outlet_classes
from reports.analytics import SEGMENTS, rfm_by_outlet


def _classify(session: Session, as_of: date) -> dict[int, str]:
    return rfm_by_outlet(session, as_of=as_of)


provide_outlet_classes("rfm", OutletClasses(labels=SEGMENTS, classify=_classify, default="never"))
