"""Invitations: the rep's printed cards for shops, and the owner's join code for sellers.

A code is 10 random Crockford base-32 symbols (50 bits): printed on a card,
typed by people, so the alphabet has no I, L, O or U and reading is forgiving.
A rep's card is single-use; an owner's seller code is used many times until
it expires or is revoked. Using a code is a conditional UPDATE, so two people
racing for the last use cannot both win.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import segno
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from partner_club.accounts.models import Invitation, InvitationKind, InvitationUse, Role, User
from partner_club.audit.services import record
from partner_club.database import utcnow
from partner_club.errors import Conflict, Forbidden, Invalid, NotFound
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Territory
from partner_club.settings_store import get_setting

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base 32
CODE_LENGTH = 10
MAX_CARDS = 48
REFERRAL_CODE_USES = 50  # new shops one owner's referral link can bring in
SELLER_CODE_USES = 500  # "many": a cap only so a leaked code cannot fill a shop forever
VALID_DAYS_SETTING = "invitations.valid_days"
DEFAULT_VALID_DAYS = 30

# Look-alikes people type: Crockford's own, and Cyrillic letters that look Latin.
_READINGS = str.maketrans(
    {
        "O": "0",
        "I": "1",
        "L": "1",
        "U": "V",
        "А": "A",
        "В": "B",
        "Е": "E",
        "К": "K",
        "М": "M",
        "Н": "H",
        "О": "0",
        "Р": "P",
        "С": "C",
        "Т": "T",
        "Х": "X",
        "У": "Y",
        "З": "3",
    }
)


class InvitationState:
    ACTIVE = "active"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str) -> str:
    """The canonical code from what a person typed or a scanned link."""
    text = (raw or "").strip()
    if "/join/" in text:
        text = text.rsplit("/join/", 1)[1]
    text = text.split("?", 1)[0].upper().translate(_READINGS)
    return "".join(ch for ch in text if ch not in " -_.\t/")


def format_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}" if len(code) == CODE_LENGTH else code


def state_of(invitation: Invitation, now: datetime | None = None) -> str:
    now = now or utcnow()
    if invitation.revoked_at is not None:
        return InvitationState.REVOKED
    if invitation.uses >= invitation.max_uses:
        return InvitationState.USED
    if invitation.expires_at <= now:
        return InvitationState.EXPIRED
    return InvitationState.ACTIVE


def default_valid_days(session: Session) -> int:
    return int(get_setting(session, VALID_DAYS_SETTING, DEFAULT_VALID_DAYS))


def territories_for_inviter(session: Session, user: User) -> list[Territory]:
    """The territories `user` may hand out cards for."""
    query = select(Territory).order_by(Territory.name)
    role = user.role_enum
    if role is Role.ADMIN:
        pass
    elif role is Role.REGIONAL_MANAGER:
        query = query.where(Territory.region_id == user.region_id)
    elif role is Role.REP:
        query = query.where(Territory.rep_id == user.id)
    else:
        return []
    return list(session.scalars(query))


def can_manage_invitation(user: User, invitation: Invitation) -> bool:
    role = user.role_enum
    if role in (Role.ADMIN, Role.HEAD_OFFICE):
        return True
    if invitation.kind in (InvitationKind.SELLER.value, InvitationKind.REFERRAL.value):
        return role is Role.OWNER and user.outlet_id == invitation.outlet_id
    territory = invitation.territory
    if territory is None:
        return False
    if role is Role.REGIONAL_MANAGER:
        return territory.region_id == user.region_id
    return role is Role.REP and territory.rep_id == user.id


def _check_days(valid_days: int) -> None:
    if not 1 <= valid_days <= 365:
        raise Invalid(_("An invitation is valid for 1 to 365 days."), code="valid_days", field="valid_days")


def issue_outlet_invitations(
    session: Session,
    inviter: User,
    territory: Territory,
    *,
    count: int,
    valid_days: int,
    label: str = "",
    now: datetime | None = None,
) -> list[Invitation]:
    """A batch of single-use cards for shops (or individuals) in `territory`."""
    if territory.id not in {t.id for t in territories_for_inviter(session, inviter)}:
        raise Forbidden(_("You can invite only into your own territory."), code="not_your_territory")
    if not 1 <= count <= MAX_CARDS:
        raise Invalid(_("Print 1 to %(n)d cards at a time.", n=MAX_CARDS), code="card_count", field="count")
    _check_days(valid_days)
    now = now or utcnow()
    batch = secrets.token_hex(8)
    cards = [
        Invitation(
            code=new_code(),
            kind=InvitationKind.OUTLET.value,
            territory_id=territory.id,
            created_by_id=inviter.id,
            created_at=now,
            expires_at=now + timedelta(days=valid_days),
            max_uses=1,
            uses=0,
            batch=batch,
            label=(label or "").strip()[:200] or None,
        )
        for _ in range(count)
    ]
    session.add_all(cards)
    session.flush()
    record(session, inviter, "invitation.issue", territory, count=count, batch=batch, valid_days=valid_days)
    return cards


def _active(session: Session, kind: InvitationKind, now: datetime, *where: Any) -> Invitation | None:
    return session.scalar(
        select(Invitation)
        .where(
            Invitation.kind == kind.value,
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
            Invitation.uses < Invitation.max_uses,
            *where,
        )
        .order_by(Invitation.id.desc())
    )


def _replace_owners_invitation(
    session: Session,
    owner: User,
    kind: InvitationKind,
    old: Invitation | None,
    *,
    valid_days: int,
    uses: int,
    now: datetime,
) -> Invitation:
    """A new code of the owner's shop; the one it replaces is revoked."""
    if old is not None:
        old.revoked_at = now
    invitation = Invitation(
        code=new_code(),
        kind=kind.value,
        outlet_id=owner.outlet_id,
        territory_id=owner.outlet.territory_id if owner.outlet else None,
        created_by_id=owner.id,
        created_at=now,
        expires_at=now + timedelta(days=valid_days),
        max_uses=uses,
        uses=0,
    )
    session.add(invitation)
    session.flush()
    record(session, owner, f"invitation.issue_{kind.value}", invitation, outlet_id=owner.outlet_id)
    return invitation


def active_seller_invitation(
    session: Session, outlet: Outlet, now: datetime | None = None
) -> Invitation | None:
    return _active(session, InvitationKind.SELLER, now or utcnow(), Invitation.outlet_id == outlet.id)


def issue_seller_invitation(
    session: Session, owner: User, *, valid_days: int, now: datetime | None = None
) -> Invitation:
    """The shop's join code for sellers; a new one replaces (revokes) the old one."""
    if owner.role_enum is not Role.OWNER or owner.outlet is None:
        raise Forbidden(_("Only a shop owner invites sellers."), code="not_owner")
    _check_days(valid_days)
    now = now or utcnow()
    old = active_seller_invitation(session, owner.outlet, now)
    return _replace_owners_invitation(
        session, owner, InvitationKind.SELLER, old, valid_days=valid_days, uses=SELLER_CODE_USES, now=now
    )


def active_referral_invitation(
    session: Session, owner: User, now: datetime | None = None
) -> Invitation | None:
    return _active(session, InvitationKind.REFERRAL, now or utcnow(), Invitation.created_by_id == owner.id)


def issue_referral_invitation(
    session: Session, owner: User, *, valid_days: int, now: datetime | None = None
) -> Invitation:
    """The owner's link for a new shop: the shop that joins through it records the owner as its
    referrer (the bonus waits for its first accepted registrations). A new one replaces the old."""
    if owner.role_enum is not Role.OWNER or owner.outlet is None:
        raise Forbidden(_("Only a shop owner brings in new shops."), code="not_owner")
    _check_days(valid_days)
    now = now or utcnow()
    old = active_referral_invitation(session, owner, now)
    return _replace_owners_invitation(
        session, owner, InvitationKind.REFERRAL, old, valid_days=valid_days, uses=REFERRAL_CODE_USES, now=now
    )


def revoke_invitation(session: Session, invitation: Invitation, *, actor: User) -> Invitation:
    if not can_manage_invitation(actor, invitation):
        raise Forbidden(_("This invitation is not yours."), code="not_your_invitation")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        session.flush()
        record(session, actor, "invitation.revoke", invitation)
    return invitation


def find_invitation(session: Session, raw: str, *, now: datetime | None = None) -> Invitation:
    """The usable invitation behind a typed code, or a refusal saying what is wrong."""
    code = normalize_code(raw)
    if not code:
        raise Invalid(_("Enter the invitation code."), code="invitation_missing", field="code")
    invitation = session.scalar(select(Invitation).where(Invitation.code == code))
    if invitation is None:
        raise Invalid(
            _("There is no invitation with this code. Check the letters and digits."),
            code="invitation_unknown",
            field="code",
        )
    state = state_of(invitation, now)
    if state == InvitationState.REVOKED:
        raise Invalid(
            _("This invitation was cancelled. Ask for a new one."), code="invitation_revoked", field="code"
        )
    if state == InvitationState.USED:
        raise Invalid(
            _("This invitation has already been used. Ask your sales representative for a new one."),
            code="invitation_used",
            field="code",
        )
    if state == InvitationState.EXPIRED:
        raise Invalid(
            _("This invitation expired. Ask for a new one."), code="invitation_expired", field="code"
        )
    return invitation


def claim(session: Session, invitation: Invitation, user: User) -> InvitationUse | None:
    """Counts one use of `invitation` by `user`, atomically against the limit.

    The "who joined" row records how a person first came in; a seller who later
    moves to another shop counts a use but keeps their first row.
    """
    result = session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.uses < Invitation.max_uses,
            Invitation.revoked_at.is_(None),
        )
        .values(uses=Invitation.uses + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(
            _("This invitation has already been used. Ask your sales representative for a new one."),
            code="invitation_used",
            field="code",
        )
    session.refresh(invitation)
    if session.scalar(select(InvitationUse.id).where(InvitationUse.user_id == user.id)) is not None:
        return None
    use = InvitationUse(invitation_id=invitation.id, user_id=user.id)
    session.add(use)
    session.flush()
    return use


@dataclass
class InvitationRow:
    invitation: Invitation
    state: str
    joined: list[User]


def invitations_for(session: Session, viewer: User, *, limit: int = 200) -> list[InvitationRow]:
    """The rep's list: their territories' cards, newest first, with who joined."""
    territory_ids = [t.id for t in territories_for_inviter(session, viewer)]
    if viewer.role_enum is Role.HEAD_OFFICE:
        query = select(Invitation).where(Invitation.kind == InvitationKind.OUTLET.value)
    else:
        query = select(Invitation).where(
            Invitation.kind == InvitationKind.OUTLET.value, Invitation.territory_id.in_(territory_ids)
        )
    invitations = list(session.scalars(query.order_by(Invitation.id.desc()).limit(limit)))
    joined: dict[int, list[User]] = {}
    if invitations:
        uses = session.execute(
            select(InvitationUse.invitation_id, User)
            .join(User, User.id == InvitationUse.user_id)
            .where(InvitationUse.invitation_id.in_([i.id for i in invitations]))
        )
        for invitation_id, user in uses:
            joined.setdefault(invitation_id, []).append(user)
    now = utcnow()
    return [InvitationRow(i, state_of(i, now), joined.get(i.id, [])) for i in invitations]


def batch_cards(session: Session, viewer: User, batch: str) -> list[Invitation]:
    cards = list(session.scalars(select(Invitation).where(Invitation.batch == batch).order_by(Invitation.id)))
    if not cards:
        raise NotFound(_("These cards do not exist."))
    if not can_manage_invitation(viewer, cards[0]):
        raise Forbidden(_("This invitation is not yours."), code="not_your_invitation")
    return cards


def qr_svg(link: str) -> str:
    """An inline SVG QR code of `link` (trusted markup: segno writes it)."""
    return segno.make(link, error="m").svg_inline(scale=4, border=2, omitsize=True)
