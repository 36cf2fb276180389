"""People and their roles."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from partner_club.database import UTCDateTime, enum_check, utcnow
from partner_club.extensions import Model

if TYPE_CHECKING:
    from partner_club.outlets.models import Outlet
    from partner_club.regions.models import Region, Territory


class Role(str, enum.Enum):
    ADMIN = "admin"
    HEAD_OFFICE = "head_office"
    REGIONAL_MANAGER = "regional_manager"
    REP = "rep"
    OWNER = "owner"
    SELLER = "seller"


ROLE_LABELS = {
    Role.ADMIN: _l("administrator"),
    Role.HEAD_OFFICE: _l("head office"),
    Role.REGIONAL_MANAGER: _l("regional manager"),
    Role.REP: _l("sales representative"),
    Role.OWNER: _l("shop owner"),
    Role.SELLER: _l("seller"),
}


def role_label(role: Role | str) -> str:
    return str(ROLE_LABELS[Role(role)])


PARTICIPANT_ROLES = frozenset({Role.OWNER, Role.SELLER})
STAFF_ROLES = frozenset({Role.ADMIN, Role.HEAD_OFFICE, Role.REGIONAL_MANAGER, Role.REP})


class UserStatus(str, enum.Enum):
    ACTIVE = "active"
    PENDING = "pending"  # a seller waiting for the owner's approval
    BLOCKED = "blocked"


class User(UserMixin, Model):
    __tablename__ = "users"
    __table_args__ = (
        enum_check("role", Role),
        enum_check("status", UserStatus),
        CheckConstraint("role <> 'owner' OR outlet_id IS NOT NULL", name="owner_has_outlet"),
        CheckConstraint(
            "role NOT IN ('owner', 'seller') OR outlet_id IS NOT NULL OR territory_id IS NOT NULL",
            name="participant_is_attached",
        ),
        Index("ix_users_outlet_role", "outlet_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=UserStatus.ACTIVE.value)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str | None] = mapped_column(String(8))
    # An IANA zone ("Asia/Novosibirsk"); None: from the shop's region, else DEFAULT_TIMEZONE.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # Set when the person typed back the one-time code sent there; messages go only to confirmed ones.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    phone_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"), index=True)
    # Individual participants hang on a rep's territory; reps do not use this.
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id"), index=True)
    # A regional manager's region.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    blocked_reason: Mapped[str | None] = mapped_column(Text)
    # What unblocking returns to: a seller blocked while awaiting approval still awaits it.
    status_before_block: Mapped[str | None] = mapped_column(String(16))
    # Bumped on block and password change: every API token issued before dies.
    token_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    outlet: Mapped[Outlet | None] = relationship(foreign_keys=[outlet_id])
    territory: Mapped[Territory | None] = relationship(foreign_keys=[territory_id])
    region: Mapped[Region | None] = relationship(foreign_keys=[region_id])

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_participant(self) -> bool:
        return self.role_enum in PARTICIPANT_ROLES

    @property
    def is_blocked(self) -> bool:
        return self.status == UserStatus.BLOCKED.value

    @property
    def is_pending(self) -> bool:
        """A seller the shop owner has not approved yet: may look, may not register codes."""
        return self.status == UserStatus.PENDING.value

    @property
    def is_active(self) -> bool:  # Flask-Login: blocked people cannot sign in
        return not self.is_blocked

    def has_role(self, *roles: Role | str) -> bool:
        return self.role in {Role(r).value for r in roles}

    @property
    def display_name(self) -> str:
        return self.full_name or self.login

    def __repr__(self) -> str:
        return f"<User {self.id} {self.login} {self.role}>"


class InvitationKind(str, enum.Enum):
    OUTLET = "outlet"  # a rep invites a shop (its owner) or an individual
    SELLER = "seller"  # an owner invites sellers to the shop
    REFERRAL = "referral"  # an owner invites a new shop (and earns the referral bonus)


class Invitation(Model):
    __tablename__ = "invitations"
    __table_args__ = (
        enum_check("kind", InvitationKind),
        CheckConstraint("uses >= 0 AND uses <= max_uses", name="uses_within_limit"),
        CheckConstraint("kind <> 'seller' OR outlet_id IS NOT NULL", name="seller_invite_has_outlet"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id"), index=True)
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    max_uses: Mapped[int] = mapped_column(default=1)
    uses: Mapped[int] = mapped_column(default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The cards printed together share a batch key: the print page shows one batch.
    batch: Mapped[str | None] = mapped_column(String(32), index=True)
    # What the rep wrote on the card, e.g. the shop it is meant for.
    label: Mapped[str | None] = mapped_column(String(200))

    territory: Mapped[Territory | None] = relationship()
    outlet: Mapped[Outlet | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])


class InvitationUse(Model):
    """Who joined through an invitation: the rep's 'who joined' list."""

    __tablename__ = "invitation_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    invitation: Mapped[Invitation] = relationship()
    user: Mapped[User] = relationship()


class SessionKind(str, enum.Enum):
    WEB = "web"  # a browser's signed-in cookie
    API = "api"  # a bearer token from POST /api/v1/auth/token


class UserSession(Model):
    """One signed-in browser or API token: ending it (sign-out, a block, a new password, the
    person's own revoke) makes its cookie or token worthless at once."""

    __tablename__ = "user_sessions"
    __table_args__ = (
        enum_check("kind", SessionKind),
        Index("ix_user_sessions_user_revoked", "user_id", "revoked_at"),
    )

    # A random token: the cookie (signed) and the API token (signed) carry it.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    # "Chrome on Android": the device as a person recognises it; never the network address.
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordReset(Model):
    """A one-time link to set a new password; only the token's SHA-256 is stored."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Filled by the job that mails the link (the request never holds the token).
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
