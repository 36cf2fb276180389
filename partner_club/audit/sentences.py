"""The audit log read as sentences: "administrator Anna Petrova voided batch 109".

Each action has a sentence with named fields, filled from the entry's details;
an action without one reads "who: action" rather than Python data. Actions
are plain strings, so the core names the domain packages' actions without
importing them.
"""

from __future__ import annotations

from typing import Any

from flask_babel import format_decimal, lazy_gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from partner_club.accounts.models import User, role_label
from partner_club.audit.models import AuditEntry

SENTENCES: dict[str, Any] = {
    "batch.issue": _l("%(who)s issued batch %(number)s: %(codes)s of %(sku)s"),
    "batch.printed": _l("%(who)s marked batch %(number)s printed"),
    "batch.activated": _l("%(who)s activated batch %(number)s (shipped)"),
    "batch.voided": _l("%(who)s voided batch %(number)s"),
    "batch.void_range": _l("%(who)s voided serials %(first)s to %(last)s of batch %(number)s: %(codes)s"),
    "product.rule": _l("%(who)s set the points of a product: %(rule)s"),
    "user.create": _l("%(who)s created the account %(login)s (%(role)s)"),
    "user.block": _l("%(who)s blocked %(object)s: %(reason)s"),
    "user.unblock": _l("%(who)s unblocked %(object)s"),
    "user.sign_up": _l("%(who)s joined the club"),
    "outlet.sign_up": _l("%(who)s signed up a shop"),
    "outlet.update": _l("%(who)s changed the shop %(object)s"),
    "seller.approve": _l("%(who)s approved the seller %(object)s"),
    "seller.remove": _l("%(who)s removed the seller %(object)s from the shop"),
    "seller.move": _l("%(who)s moved to another shop"),
    "invitation.issue": _l("%(who)s issued %(count)s invitations"),
    "invitation.issue_seller": _l("%(who)s made a new join code for the shop's sellers"),
    "invitation.revoke": _l("%(who)s revoked an invitation"),
    "points.adjust": _l("%(who)s adjusted points by %(amount)s: %(reason)s"),
    "points.reverse": _l("%(who)s reversed a points entry: %(reason)s"),
    "points.expiry_policy": _l("%(who)s changed when points expire"),
    "points.point_value": _l("%(who)s set the value of a point: %(amount)s %(currency)s"),
    "setting.update": _l("%(who)s changed a setting"),
    "fraud.block": _l("%(who)s blocked %(object)s after a check: %(note)s"),
    "fraud.settings": _l("%(who)s changed the fraud rules"),
    "fraud.case.approve": _l("%(who)s accepted a registration after a check"),
    "fraud.case.reject": _l("%(who)s rejected a registration after a check"),
    "region.rename": _l("%(who)s renamed a region"),
    "territory.create": _l("%(who)s created a territory"),
    "territory.update": _l("%(who)s changed a territory"),
    "outlets.import": _l("%(who)s imported shops"),
    "points.registration_rule": _l("%(who)s changed how a shop's registrations share points"),
    "catalog.stock": _l("%(who)s set the stock of a prize from %(before)s to %(after)s"),
    "catalog.prize_deleted": _l("%(who)s deleted the prize %(name)s"),
    "catalog.prize_created": _l("%(who)s added a prize"),
    "catalog.prize_updated": _l("%(who)s changed a prize"),
    "catalog.tax_profile": _l("%(who)s filled in their tax details"),
    "catalog.tax_settings": _l("%(who)s changed the prize tax settings"),
    "catalog.order_placed": _l("%(who)s ordered prizes (order %(object_id)s)"),
    "catalog.order_confirmed": _l("%(who)s confirmed order %(object_id)s"),
    "catalog.order_shipped": _l("%(who)s shipped order %(object_id)s"),
    "catalog.order_delivered": _l("%(who)s marked order %(object_id)s delivered"),
    "catalog.order_cancelled": _l("%(who)s cancelled order %(object_id)s: %(reason)s"),
    "reports.target_set": _l("%(who)s set a KPI target for %(period)s: %(value)s"),
    "reports.targets_imported": _l("%(who)s imported KPI targets"),
    "campaign.end": _l("%(who)s ended campaign %(object_id)s: its period is over"),
    "invitation.issue_referral": _l("%(who)s made a referral link for a new shop"),
    "mailings.send": _l("%(who)s sent mailing %(object_id)s"),
    "mailings.schedule": _l("%(who)s scheduled mailing %(object_id)s"),
    "mailings.cancel": _l("%(who)s cancelled mailing %(object_id)s"),
    "mailings.limits": _l("%(who)s changed the mailings' weekly limit and sending rate"),
    "mailings.call_list": _l("%(who)s made call list %(object_id)s (%(people)s people)"),
    "mailings.call_list_export": _l("%(who)s downloaded call list %(object_id)s with the people's phones"),
}
SYSTEM = lazy_gettext("the system")


def who(entry: AuditEntry) -> str:
    if entry.actor is None:
        return str(SYSTEM)
    return f"{role_label(entry.actor.role)} {entry.actor.display_name}"


def _codes(count: Any) -> str:
    if not isinstance(count, int):
        return ""
    return ngettext("%(count)s code", "%(count)s codes", count, count=format_decimal(count))


def sentence(entry: AuditEntry, object_name: str | None = None) -> str:
    details = entry.details or {}
    template = SENTENCES.get(entry.action)
    if template is None:
        return f"{who(entry)}: {entry.action}"
    first, last = (details.get("range") or [None, None])[:2]
    count = details.get("count")
    if entry.action == "batch.void_range" and isinstance(first, int) and isinstance(last, int):
        count = last - first + 1
    role = details.get("role")
    fields = {
        **{k: ("" if v is None else v) for k, v in details.items() if not isinstance(v, (dict, list))},
        "who": who(entry),
        "object": object_name or entry.object_id or "",
        "object_id": entry.object_id or "",
        "first": first or "",
        "last": last or "",
        "codes": _codes(count),
        "role": role_label(role) if role else "",
    }
    if isinstance(count, int):
        fields["count"] = format_decimal(count)
    try:
        return str(template) % _Fields(fields)
    except (TypeError, ValueError):
        return f"{who(entry)}: {entry.action}"


class _Fields(dict):
    """A sentence's fields; one the entry does not carry reads as an empty string."""

    def __missing__(self, key: str) -> str:
        return ""


def sentences_for(session: Session, entries: list[AuditEntry]) -> dict[int, str]:
    """Each entry's sentence, people named (one query for the people the entries are about)."""
    ids = {int(e.object_id) for e in entries if e.object_type == "User" and (e.object_id or "").isdigit()}
    rows = (
        session.execute(select(User.id, User.full_name, User.login).where(User.id.in_(ids))).all()
        if ids
        else []
    )
    names = {i: full_name or login for i, full_name, login in rows}
    return {
        e.id: sentence(e, names.get(int(e.object_id)) if e.object_type == "User" and e.object_id else None)
        for e in entries
    }
