"""The person's own profile: name, language, time zone, e-mail and phone confirmed by a code.

A new e-mail or phone takes effect only once the person types back the
6-digit code sent to it: the code lives 10 minutes, allows a few tries, and
only its salted hash is stored. A person may ask for a few codes an hour,
and one address or number receives a few an hour whoever asks, so the form
cannot be used to flood someone's phone. The e-mail code goes by e-mail and
the phone's code by SMS, both after the request's transaction commits.
When the login is the old address or number it follows the change (the
person signs in with what they confirmed), unless another account already
signs in with it: that is said only after the code proves the address is
theirs, so the form does not tell strangers who is a member.

Asking for the change needs the current password (whoever finds the phone
signed in cannot move the sign-in to their own address); wrong passwords
count against the sign-in limits of the person's login. Once the change is
made, the old address or number is told, with what to do if it was not them.
"""

from __future__ import annotations

import secrets
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from partner_club.accounts.models import User
from partner_club.accounts.profile_models import ContactConfirmation, ContactField
from partner_club.accounts.services import normalize_login
from partner_club.accounts.signin_limits import Store, subjects
from partner_club.audit.services import record
from partner_club.brand import brand_for
from partner_club.database import utcnow
from partner_club.errors import Conflict, Invalid, TooManyAttempts
from partner_club.notifications.services import Message, send_after_commit
from partner_club.notifications.sms import sms_allowed, sms_countries

CODE_VALID_FOR = timedelta(minutes=10)
MAX_ATTEMPTS = 5  # tries per code, the right one included
CODES_PER_PERSON_HOUR = 5
CODES_PER_ADDRESS_HOUR = 3
LANGUAGES = ("ru", "en")
# The club's time zones, west to east (Russia, Kazakhstan and neighbours).
TIME_ZONES = (
    "Europe/Kaliningrad",
    "Europe/Minsk",
    "Europe/Moscow",
    "Europe/Samara",
    "Asia/Aqtobe",
    "Asia/Yekaterinburg",
    "Asia/Almaty",
    "Asia/Omsk",
    "Asia/Novosibirsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Yakutsk",
    "Asia/Vladivostok",
    "Asia/Magadan",
    "Asia/Kamchatka",
)


@dataclass(frozen=True)
class ProfileChange:
    full_name: str
    locale: str | None
    time_zone: str | None


def update_profile(session: Session, user: User, change: ProfileChange) -> User:
    """Name, language and time zone: no confirmation needed."""
    name = " ".join(change.full_name.split())
    if not name:
        raise Invalid(_("Enter your full name."), code="name_missing", field="full_name")
    if change.locale not in (None, *LANGUAGES):
        raise Invalid(_("Choose Russian or English."), code="locale_invalid", field="locale")
    zone = change.time_zone or None
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(
                _("Choose a time zone from the list."), code="zone_invalid", field="time_zone"
            ) from None
    user.full_name = name[:200]
    user.locale = change.locale
    user.time_zone = zone
    session.flush()
    return user


def normalize_contact(field: ContactField, raw: str) -> str:
    """The address or number as stored, or `Invalid` saying what looks wrong."""
    text = (raw or "").strip()
    if field is ContactField.EMAIL and text and "@" not in text:
        raise Invalid(
            _("This e-mail address does not look right: %(value)s", value=text), code="email_invalid"
        )
    if field is ContactField.PHONE and "@" in text:
        raise Invalid(_("This phone number does not look right: %(value)s", value=text), code="phone_invalid")
    try:
        return normalize_login(text)
    except Invalid as error:
        error.details["field"] = field.value
        raise


def _codes_since(session: Session, since: datetime, *criteria) -> int:
    return (
        session.scalar(
            select(func.count(ContactConfirmation.id)).where(
                ContactConfirmation.created_at > since, *criteria
            )
        )
        or 0
    )


def _check_rate(session: Session, user: User, value: str, now: datetime) -> None:
    hour_ago = now - timedelta(hours=1)
    by_person = _codes_since(session, hour_ago, ContactConfirmation.user_id == user.id)
    to_address = _codes_since(session, hour_ago, ContactConfirmation.value == value)
    if by_person >= CODES_PER_PERSON_HOUR or to_address >= CODES_PER_ADDRESS_HOUR:
        oldest = session.scalar(
            select(func.min(ContactConfirmation.created_at)).where(
                ContactConfirmation.created_at > hour_ago,
                (ContactConfirmation.user_id == user.id) | (ContactConfirmation.value == value),
            )
        )
        wait = max(60, int(((oldest or now) + timedelta(hours=1) - now).total_seconds()))
        raise TooManyAttempts(
            _("Too many codes asked for in an hour. Try again in %(minutes)d min.", minutes=-(-wait // 60)),
            retry_after=wait,
            field="value",
        )


def check_current_password(session: Session, user: User, password: str, store: Store, ip: str | None) -> None:
    """The person's current password, behind the sign-in limits of their login: a wrong one
    raises `Invalid` with code `password_wrong` and counts (the caller commits after it)."""
    pairs = subjects(user.login, ip)
    wait = store.wait_seconds(session, pairs)
    if wait > 0:
        raise TooManyAttempts(
            _("Too many wrong passwords. Try again in %(seconds)s seconds.", seconds=wait),
            retry_after=wait,
            field="password",
        )
    if not user.check_password(password or ""):
        store.record_failure(session, pairs)
        raise Invalid(_("The current password is wrong."), code="password_wrong", field="password")
    store.forget(session, pairs[0][1])


def request_contact_change(
    session: Session,
    user: User,
    field: ContactField,
    raw: str,
    *,
    password: str,
    store: Store,
    ip: str | None = None,
) -> ContactConfirmation:
    """Sends a one-time code to the new e-mail or phone (after commit); nothing changes yet.
    The current password comes first (see `check_current_password`)."""
    check_current_password(session, user, password, store, ip)
    value = normalize_contact(field, raw)
    if field is ContactField.PHONE and not sms_allowed(value, current_app.config):
        raise Invalid(
            _(
                "Codes by SMS go only to numbers starting with %(codes)s. Enter such a number, "
                "or ask the club's support to change it.",
                codes=", ".join(f"+{code}" for code in sms_countries(current_app.config)),
            ),
            code="phone_country",
            field="value",
        )
    if value == getattr(user, field.value):
        raise Conflict(_("This is already your confirmed address."), code="unchanged", field="value")
    now = utcnow()
    _check_rate(session, user, value, now)
    session.execute(
        update(ContactConfirmation)
        .where(
            ContactConfirmation.user_id == user.id,
            ContactConfirmation.field == field.value,
            ContactConfirmation.used_at.is_(None),
        )
        .values(used_at=now)
    )
    code = f"{secrets.randbelow(10**6):06d}"
    pending = ContactConfirmation(
        user_id=user.id,
        field=field.value,
        value=value,
        code_hash=generate_password_hash(code),
        created_at=now,
        expires_at=now + CODE_VALID_FOR,
    )
    session.add(pending)
    session.flush()
    _send_code(session, user, field, value, code)
    return pending


def _send_code(session: Session, user: User, field: ContactField, value: str, code: str) -> None:
    # The person's language, else the one they are using the page in.
    with force_locale(user.locale) if user.locale else nullcontext():
        text = _(
            "%(brand)s: your confirmation code is %(code)s. It is valid for 10 minutes. "
            "If you did not ask for it, ignore this message.",
            brand=_brand_name(session, user),
            code=code,
        )
        subject = _("Confirm your e-mail address")
    if field is ContactField.EMAIL:
        send_after_commit(session, Message(to=value, subject=subject, text=text), "email")
    else:
        send_after_commit(session, Message(to=value, subject="", text=text), "sms")


def pending_change(session: Session, user: User, field: ContactField) -> ContactConfirmation | None:
    """The code waiting for the person's answer, if any and still valid."""
    return session.scalar(
        select(ContactConfirmation)
        .where(
            ContactConfirmation.user_id == user.id,
            ContactConfirmation.field == field.value,
            ContactConfirmation.used_at.is_(None),
            ContactConfirmation.expires_at > utcnow(),
        )
        .order_by(ContactConfirmation.id.desc())
        .limit(1)
    )


def confirm_contact_change(session: Session, user: User, field: ContactField, code: str) -> User:
    """Applies the change if `code` is right. A wrong code costs one of the tries: the caller
    commits even when this raises with code `wrong_code` or `code_attempts`, to keep the count."""
    pending = pending_change(session, user, field)
    if pending is None:
        raise Invalid(_("The code has expired. Ask for a new one."), code="code_expired", field="code")
    # Counted before the comparison and atomically, so parallel guesses share the same tries.
    counted = cast(
        CursorResult[Any],
        session.execute(
            update(ContactConfirmation)
            .where(ContactConfirmation.id == pending.id, ContactConfirmation.attempts < MAX_ATTEMPTS)
            .values(attempts=ContactConfirmation.attempts + 1)
        ),
    ).rowcount
    if not counted:
        raise TooManyAttempts(
            _("Too many wrong codes. Ask for a new one."), retry_after=0, code="code_attempts", field="code"
        )
    session.refresh(pending)
    if not check_password_hash(pending.code_hash, (code or "").strip()[:12]):
        left = MAX_ATTEMPTS - pending.attempts
        if left <= 0:
            raise TooManyAttempts(
                _("Too many wrong codes. Ask for a new one."),
                retry_after=0,
                code="code_attempts",
                field="code",
            )
        raise Invalid(_("Wrong code. Tries left: %(n)d.", n=left), code="wrong_code", field="code")
    pending.used_at = utcnow()
    _apply_contact(session, user, field, pending.value)
    return user


def _apply_contact(session: Session, user: User, field: ContactField, value: str) -> None:
    old = getattr(user, field.value)
    if old is not None and user.login == old:
        taken = session.scalar(select(User.id).where(func.lower(User.login) == value, User.id != user.id))
        if taken is not None:
            raise Conflict(
                _("Another account signs in with this address. Ask the club to join the two."),
                code="contact_taken",
                field="code",
            )
        user.login = value
    setattr(user, field.value, value)
    setattr(user, f"{field.value}_confirmed_at", utcnow())
    session.flush()
    record(session, user, f"user.{field.value}_change", user)
    if old:
        _tell_old_contact(session, user, field, old)


def _brand_name(session: Session, user: User) -> str:
    """The organizer's name for the programme, in the language the message is written in."""
    return brand_for(session, current_app.config, str(get_locale() or user.locale or "ru")).name


def _tell_old_contact(session: Session, user: User, field: ContactField, old: str) -> None:
    """The address or number that was replaced hears of it: if it was not the person, their
    account may be in other hands, and this is the one place they would still learn it."""
    with force_locale(user.locale) if user.locale else nullcontext():
        if field is ContactField.EMAIL:
            text = _(
                "%(brand)s: the e-mail address of your account was changed. If you did not do "
                "this, reset your password at once with \"Forgot your password?\" on the sign-in "
                "page and tell your sales representative or the club's support.",
                brand=_brand_name(session, user),
            )
            subject = _("Your e-mail address was changed")
        else:
            text = _(
                "%(brand)s: the phone number of your account was changed. If you did not do "
                "this, reset your password at once and tell your sales representative or the "
                "club's support.",
                brand=_brand_name(session, user),
            )
            subject = ""
    channel = "email" if field is ContactField.EMAIL else "sms"
    send_after_commit(session, Message(to=old, subject=subject, text=text), channel)
