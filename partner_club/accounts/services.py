"""Accounts: signing in, logins, and the profile the API shows."""

from __future__ import annotations

import functools
import re
import secrets
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from partner_club.accounts.models import PARTICIPANT_ROLES, Role, User, UserStatus
from partner_club.accounts.sessions import end_sessions
from partner_club.audit.services import record
from partner_club.database import utcnow
from partner_club.errors import Conflict, DomainError, Forbidden, Invalid
from partner_club.outlets.models import Outlet

MIN_PASSWORD_LENGTH = 8


class BadCredentials(DomainError):
    code = "bad_credentials"
    status = 401


def normalize_login(raw: str, *, default_region: str = "RU") -> str:
    """A login is an e-mail (lower-cased) or a phone number (E.164).

    Raises `Invalid` with a message saying which of the two looks wrong.
    """
    text = (raw or "").strip()
    if not text:
        raise Invalid(_("Enter a phone number or an e-mail address."), code="login_missing")
    if "@" in text:
        try:
            return validate_email(text, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            raise Invalid(
                _("This e-mail address does not look right: %(value)s", value=text), code="email_invalid"
            ) from None
    if not re.fullmatch(r"[+\d\s()\-.]{5,25}", text):
        raise Invalid(
            _("Enter a phone number like +7 912 345-67-89 or an e-mail address."), code="login_invalid"
        )
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise Invalid(_("This phone number does not look right: %(value)s", value=text), code="phone_invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise Invalid(
            _("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), code="password_short"
        )


def find_by_login(session: Session, raw_login: str) -> User | None:
    try:
        login = normalize_login(raw_login)
    except Invalid:
        login = (raw_login or "").strip().lower()
    return session.scalar(select(User).where(func.lower(User.login) == login))


def authenticate(session: Session, raw_login: str, password: str) -> User:
    """The person behind a login and password, or a `BadCredentials` refusal.

    A blocked person is told so, with the reason and whom to contact.
    """
    user = find_by_login(session, raw_login)
    if user is None:
        # An unknown login costs the same hashing time as a wrong password: the answer's
        # delay must not tell who is in the club.
        check_password_hash(_dummy_hash(), password or "")
        raise BadCredentials(_("Wrong login or password."))
    if not user.check_password(password or ""):
        raise BadCredentials(_("Wrong login or password."))
    if user.is_blocked:
        rep = representative_of(user)
        raise Forbidden(
            _(
                "Your account is blocked: %(reason)s. Contact your sales representative "
                "or the club's support.",
                reason=user.blocked_reason or _("no reason given"),
            ),
            code="blocked",
            contact=None if rep is None else {"name": rep.display_name, "login": rep.login},
        )
    user.last_login_at = utcnow()
    return user


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


def change_password(session: Session, user: User, current: str, new: str, *, keep_session: str | None) -> int:
    """Sets a new password when the current one is right; ends every other session and API
    token of the person (whoever else knew the old password is out). Returns how many ended."""
    if not user.check_password(current or ""):
        raise Invalid(_("The current password is wrong."), code="password_wrong", field="current")
    check_password_strength(new)
    user.set_password(new)
    user.token_version += 1
    ended = end_sessions(session, user, keep=keep_session)
    session.flush()
    record(session, user, "user.password_change", user, sessions_ended=ended)
    return ended


def set_new_password(session: Session, user: User, password: str, *, actor: User | None) -> None:
    """A password set for the person by staff: every session and API token of theirs ends."""
    check_password_strength(password)
    user.set_password(password)
    user.token_version += 1
    end_sessions(session, user)
    session.flush()
    record(session, actor, "user.password_set", user)


def representative_of(user: User) -> User | None:
    """The rep who looks after this person's shop or territory: whom they should call."""
    territory = user.outlet.territory if user.outlet is not None else user.territory
    return territory.rep if territory is not None else None


def create_user(
    session: Session,
    *,
    role: Role | str,
    login: str,
    password: str,
    full_name: str = "",
    outlet: Outlet | None = None,
    territory_id: int | None = None,
    region_id: int | None = None,
    status: UserStatus = UserStatus.ACTIVE,
    actor: User | None = None,
) -> User:
    role = Role(role)
    normalized = normalize_login(login)
    check_password_strength(password)
    if role in PARTICIPANT_ROLES and outlet is None and territory_id is None:
        raise Invalid(_("An owner or seller needs a shop."), code="outlet_missing")
    if role is Role.OWNER and outlet is None:
        raise Invalid(_("An owner needs a shop."), code="outlet_missing")
    if session.scalar(select(User.id).where(func.lower(User.login) == normalized)) is not None:
        raise Conflict(_("This login is already taken: %(login)s", login=normalized), code="login_taken")
    user = User(
        login=normalized,
        role=role.value,
        full_name=full_name.strip(),
        status=status.value,
        outlet_id=outlet.id if outlet is not None else None,
        territory_id=territory_id,
        region_id=region_id,
        email=normalized if "@" in normalized else None,
        phone=None if "@" in normalized else normalized,
    )
    user.set_password(password)
    session.add(user)
    session.flush()
    record(session, actor, "user.create", user, role=role.value, login=normalized)
    return user


def profile_of(session: Session, user: User) -> dict[str, Any]:
    outlet = user.outlet
    return {
        "id": user.id,
        "login": user.login,
        "name": user.display_name,
        "role": user.role,
        "status": user.status,
        "shop": None
        if outlet is None
        else {
            "id": outlet.id,
            "name": outlet.name,
            "external_id": outlet.external_id,
            "region": outlet.region.iso_code,
        },
    }


def block_user(session: Session, user: User, *, reason: str, actor: User | None) -> User:
    """Blocks `user`: no sign-in, and every API token and session issued before dies.

    The reason is shown to the person on the sign-in page, so write it for them.
    """
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Give a reason: the person will see it when signing in."), code="reason_missing")
    if actor is not None and actor.id == user.id:
        raise Forbidden(_("You cannot block yourself."), code="block_self")
    if not user.is_blocked:
        user.status_before_block = user.status
    user.status = UserStatus.BLOCKED.value
    user.blocked_reason = reason[:2000]
    user.token_version += 1
    end_sessions(session, user)
    session.flush()
    record(session, actor, "user.block", user, reason=user.blocked_reason)
    return user


def unblock_user(session: Session, user: User, *, actor: User | None) -> User:
    """Lifts a block; the person signs in again (old sessions and tokens stay dead)."""
    if not user.is_blocked:
        return user
    user.status = user.status_before_block or UserStatus.ACTIVE.value
    user.status_before_block = None
    user.blocked_reason = None
    user.token_version += 1
    session.flush()
    record(session, actor, "user.unblock", user)
    return user
