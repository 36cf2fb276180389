"""Joining the club with an invitation, and the owner's say over the shop's sellers.

Each sign-up is one transaction: the shop, its owner, the use of the code and
the audit entries land together or not at all (the view commits once).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from partner_club.accounts import kinds
from partner_club.accounts.invitations import claim, find_invitation
from partner_club.accounts.models import Invitation, InvitationKind, Role, User, UserStatus
from partner_club.accounts.services import create_user
from partner_club.audit.services import record
from partner_club.campaigns.bonuses import welcome_points
from partner_club.errors import Conflict, Forbidden, Invalid
from partner_club.ledger.credits import CreditKind, credit
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)

# Where the club's shops can be: Russia, Kazakhstan, Ukraine and neighbours
# (Chukotka crosses the 180th meridian, hence the second longitude band).
LAT_RANGE = (35.0, 82.0)
LON_RANGES = ((19.0, 180.0), (-180.0, -168.0))
BBOX_MARGIN = 0.5  # degrees: simplified region shapes are a little smaller than the real ones


def _check_digit(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=True)) % 11 % 10


def inn_checksum_ok(inn: str) -> bool:
    """The check digits of a 10-digit (company) or 12-digit (person) INN."""
    if not inn.isdigit() or len(inn) not in (10, 12):
        return False
    digits = [int(c) for c in inn]
    if len(inn) == 10:
        return _check_digit(digits[:9], _INN10) == digits[9]
    return _check_digit(digits[:10], _INN11) == digits[10] and _check_digit(digits[:11], _INN12) == digits[11]


def validate_inn(raw: str) -> str:
    """A Russian taxpayer number (INN): 10 digits for a company, 12 for a person, with check digits."""
    inn = "".join((raw or "").split())
    if not inn.isdigit() or len(inn) not in (10, 12):
        raise Invalid(
            _("The tax number (INN) has 10 digits for a company or 12 for a sole trader."),
            code="inn_format",
            field="tax_number",
        )
    if not inn_checksum_ok(inn):
        raise Invalid(
            _("This tax number (INN) has a typo: its check digit does not match."),
            code="inn_checksum",
            field="tax_number",
        )
    return inn


def check_position(lat: float | None, lon: float | None, region: Region | None = None) -> None:
    """A shop's map position: both or neither, inside the club's countries and near its region."""
    if lat is None and lon is None:
        return
    if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
        raise Invalid(_("Give both latitude and longitude, or neither."), code="position_half", field="lat")
    in_lon = any(low <= lon <= high for low, high in LON_RANGES)
    if not (LAT_RANGE[0] <= lat <= LAT_RANGE[1]) or not in_lon:
        raise Invalid(
            _("This map position is outside the club's countries. Check latitude and longitude."),
            code="position_range",
            field="lat",
        )
    if region is not None and region.bbox:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in region.bbox.split(","))
        if min_lon > max_lon:  # a region across the 180th meridian: skip the box test
            return
        if not (
            min_lat - BBOX_MARGIN <= lat <= max_lat + BBOX_MARGIN
            and min_lon - BBOX_MARGIN <= lon <= max_lon + BBOX_MARGIN
        ):
            raise Invalid(
                _("This map position is not in the chosen region."), code="position_region", field="lat"
            )


@dataclass
class ShopDetails:
    trade_name: str
    legal_name: str
    tax_number: str
    address: str
    region_id: int
    lat: float | None = None
    lon: float | None = None


@dataclass
class PersonDetails:
    full_name: str
    login: str
    password: str
    password_again: str


def _check_person(person: PersonDetails) -> None:
    if not person.full_name.strip():
        raise Invalid(_("Enter your full name."), code="name_missing", field="full_name")
    if person.password != person.password_again:
        raise Invalid(_("The two passwords differ."), code="password_mismatch", field="password_again")


def _create_person(session: Session, person: PersonDetails, **kwargs) -> User:
    """create_user, with its refusals pointed at the form field they belong to."""
    _check_person(person)
    try:
        return create_user(
            session, login=person.login, password=person.password, full_name=person.full_name, **kwargs
        )
    except (Invalid, Conflict) as error:
        error.details.setdefault("field", "password" if error.code == "password_short" else "login")
        raise


def _outlet_invitation(session: Session, code: str) -> Invitation:
    invitation = find_invitation(session, code)
    if invitation.kind not in (InvitationKind.OUTLET.value, InvitationKind.REFERRAL.value):
        raise Invalid(
            _("This is a seller's code for a shop: use the seller sign-up."),
            code="invitation_kind",
            field="code",
        )
    return invitation


def sign_up_shop(session: Session, code: str, shop: ShopDetails, person: PersonDetails) -> User:
    """A new shop and its owner, through a rep's card."""
    invitation = _outlet_invitation(session, code)
    region = session.get(Region, shop.region_id)
    if region is None:
        raise Invalid(_("Choose the region."), code="region_missing", field="region_id")
    if not shop.trade_name.strip():
        raise Invalid(_("Enter the shop's name."), code="name_missing", field="trade_name")
    if not shop.legal_name.strip():
        raise Invalid(_("Enter the legal name."), code="legal_name_missing", field="legal_name")
    if not shop.address.strip():
        raise Invalid(_("Enter the shop's address."), code="address_missing", field="address")
    inn = validate_inn(shop.tax_number)
    check_position(shop.lat, shop.lon, region)
    _check_person(person)
    referrer_id = _check_referral(session, invitation, inn)
    outlet = Outlet(
        name=shop.trade_name.strip()[:200],
        legal_name=shop.legal_name.strip()[:300],
        tax_number=inn,
        address=shop.address.strip()[:500],
        kind="shop",
        region_id=region.id,
        territory_id=invitation.territory_id,
        lat=shop.lat,
        lon=shop.lon,
        referred_by_id=referrer_id,
    )
    session.add(outlet)
    session.flush()
    owner = _create_person(session, person, role=Role.OWNER, outlet=outlet)
    claim(session, invitation, owner)
    welcome(session, owner)
    record(session, owner, "outlet.sign_up", outlet, invitation_id=invitation.id, tax_number=inn)
    return owner


def _check_referral(session: Session, invitation: Invitation, inn: str) -> int | None:
    """The referring owner of a shop joining through an owner's referral link, or None for a
    rep's card. A referral is for a new shop: not the owner's own, not one already in the club."""
    if invitation.kind != InvitationKind.REFERRAL.value:
        return None
    referrer_shop = session.get(Outlet, invitation.outlet_id) if invitation.outlet_id else None
    if referrer_shop is not None and referrer_shop.tax_number == inn:
        raise Invalid(
            _(
                "This is the tax number of the shop that sent the link: a referral is for another owner's new shop."
            ),
            code="self_referral",
            field="tax_number",
        )
    if session.scalar(select(Outlet.id).where(Outlet.tax_number == inn).limit(1)) is not None:
        raise Invalid(
            _("A shop with this tax number is already in the club: a referral link is for new shops only."),
            code="referral_existing_shop",
            field="tax_number",
        )
    return invitation.created_by_id


def sign_up_individual(session: Session, code: str, person: PersonDetails) -> User:
    """A participant without a shop, attached to the rep's territory."""
    invitation = _outlet_invitation(session, code)
    if invitation.kind == InvitationKind.REFERRAL.value:
        raise Invalid(
            _("A referral link brings in a new shop: sign up the shop."),
            code="referral_shop_only",
            field="code",
        )
    user = _create_person(session, person, role=Role.SELLER, territory_id=invitation.territory_id)
    claim(session, invitation, user)
    welcome(session, user)
    record(session, user, "user.sign_up", user, invitation_id=invitation.id, individual=True)
    return user


def sign_up_seller(session: Session, code: str, person: PersonDetails) -> User:
    """A seller joining a shop with the owner's code: pending until the owner approves."""
    invitation = find_invitation(session, code)
    if invitation.kind != InvitationKind.SELLER.value:
        raise Invalid(_("This card invites a shop, not a seller."), code="invitation_kind", field="code")
    outlet = session.get(Outlet, invitation.outlet_id)
    user = _create_person(session, person, role=Role.SELLER, outlet=outlet, status=UserStatus.PENDING)
    claim(session, invitation, user)
    record(session, user, "user.sign_up", user, invitation_id=invitation.id, outlet_id=outlet.id)
    kinds.seller_waiting(session, user)
    return user


def move_to_shop(session: Session, seller: User, code: str) -> User:
    """A signed-in seller (or individual) joins another shop: one shop at a time, pending again."""
    if seller.role_enum is not Role.SELLER:
        raise Forbidden(_("Only sellers join a shop with a seller's code."), code="not_seller")
    invitation = find_invitation(session, code)
    if invitation.kind != InvitationKind.SELLER.value:
        raise Invalid(_("This card invites a shop, not a seller."), code="invitation_kind", field="code")
    if seller.outlet_id == invitation.outlet_id:
        raise Conflict(_("You are already in this shop."), code="same_shop", field="code")
    previous = seller.outlet_id
    seller.outlet_id = invitation.outlet_id
    seller.territory_id = None
    seller.status = UserStatus.PENDING.value
    session.flush()
    claim(session, invitation, seller)
    record(session, seller, "seller.move", seller, from_outlet=previous, to_outlet=invitation.outlet_id)
    kinds.seller_waiting(session, seller)
    return seller


def welcome(session: Session, person: User) -> None:
    """The admin's welcome points, once per person, when their account becomes active."""
    item = welcome_points(session, person_id=person.id)
    if item:
        credit(
            session,
            person,
            item["points"],
            cause_type="welcome",
            cause_id=person.id,
            kind=CreditKind.ACTION,
            breakdown=[item],
        )


def _own_seller(owner: User, seller: User) -> None:
    if (
        owner.role_enum is not Role.OWNER
        or seller.role_enum is not Role.SELLER
        or owner.outlet_id is None
        or seller.outlet_id != owner.outlet_id
    ):
        raise Forbidden(_("This person is not a seller of your shop."), code="not_your_seller")


def approve_seller(session: Session, owner: User, seller: User) -> User:
    _own_seller(owner, seller)
    if seller.is_blocked:
        raise Conflict(_("This person is blocked by the club."), code="blocked")
    seller.status = UserStatus.ACTIVE.value
    session.flush()
    record(session, owner, "seller.approve", seller, outlet_id=owner.outlet_id)
    welcome(session, seller)
    kinds.account_approved(session, seller)
    return seller


def remove_seller(session: Session, owner: User, seller: User) -> User:
    """Detaches a seller from the shop; they stay a participant of the shop's territory."""
    _own_seller(owner, seller)
    outlet = owner.outlet
    if outlet.territory_id is None:
        raise Conflict(
            _("Your shop has no sales representative yet; ask the club to remove this seller."),
            code="no_territory",
        )
    seller.outlet_id = None
    seller.territory_id = outlet.territory_id
    session.flush()
    record(session, owner, "seller.remove", seller, outlet_id=outlet.id)
    return seller


def sellers_of(session: Session, outlet: Outlet) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(User.outlet_id == outlet.id, User.role == Role.SELLER.value)
            .order_by(User.status.desc(), User.full_name)
        )
    )


def regions_for_choice(session: Session) -> list[Region]:
    return list(session.scalars(select(Region).order_by(Region.country, Region.name_en)))
