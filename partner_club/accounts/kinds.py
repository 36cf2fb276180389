"""The messages the accounts package raises: a seller waiting for the owner, an account approved."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from partner_club.accounts.models import Role, User, UserStatus
from partner_club.notifications.services import Kind, notify, register_kind

SELLERS_PAGE = "/shop/sellers"

register_kind(
    Kind(
        name="seller.waiting",
        group="people",
        title=_l("%(name)s waits for your approval"),
        body=_l("A new seller joined your shop. Approve or remove them on the sellers page."),
    )
)
register_kind(
    Kind(
        name="account.approved",
        group="people",
        title=_l("Your account is approved"),
        body=_l("You can register codes and collect points now."),
    )
)


def seller_waiting(session: Session, seller: User) -> None:
    """Tells the seller's shop owner(s) that the seller waits for approval."""
    owners = session.scalars(
        select(User.id).where(
            User.outlet_id == seller.outlet_id,
            User.role == Role.OWNER.value,
            User.status == UserStatus.ACTIVE.value,
        )
    )
    for owner_id in owners:
        notify(session, owner_id, "seller.waiting", {"name": seller.display_name}, link=SELLERS_PAGE)


def account_approved(session: Session, person: User) -> None:
    notify(session, person.id, "account.approved", link="/")
