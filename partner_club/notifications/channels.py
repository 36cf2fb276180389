"""The channels a notification travels by, behind one small base class, keyed by name.

A channel says why a person can't get a message by it (`lacks`), gathers what
it needs while the database is at hand (`prepare`), and sends with no
transaction open (`deliver`), returning an `Outcome` rather than raising: a
provider's trouble is recorded on the delivery, retried or passed on to the
next channel, and never undoes the change that caused the message.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from partner_club.accounts.models import User
from partner_club.emails import render_email
from partner_club.notifications.mailer import Message, send_email
from partner_club.notifications.models import PushSubscription
from partner_club.notifications.push import send_push
from partner_club.notifications.sms import sms_provider
from partner_club.notifications.unsubscribe import list_unsubscribe_headers, unsubscribe_url
from partner_club.redact import mask

log = logging.getLogger("partner_club.notifications.services")


@dataclass
class Outgoing:
    """One notification, rendered for its reader, on its way through one channel."""

    delivery_id: int
    notification_id: int
    channel: str
    title: str
    body: str
    url: str | None  # absolute: PUBLIC_URL + the notification's link
    locale: str
    mailing: bool = False  # the kind is a mailing: the person may unsubscribe from it
    target: Any = None  # the channel's address(es), from `prepare`
    # What the e-mail channel sends (rendered in the locale while the app is at hand).
    email: Message | None = None


@dataclass
class Outcome:
    status: str  # "sent", "retry" (a passing trouble) or "failed" (this channel won't do)
    provider_id: str | None = None
    reason: str | None = None
    expired_subscriptions: list[int] = field(default_factory=list)


class Channel:
    name: ClassVar[str] = "base"

    def lacks(self, session: Session, user: User, config: Mapping[str, Any]) -> str | None:
        """Why this person can't be reached here (None: they can)."""
        return None

    def prepare(self, session: Session, user: User, config: Mapping[str, Any], outgoing: Outgoing) -> None:
        """Fills `outgoing.target` (and anything else `deliver` needs) while the database is open."""

    def deliver(self, config: Mapping[str, Any], outgoing: Outgoing) -> Outcome:
        raise NotImplementedError

    def send(self, config: Mapping[str, Any], message: Message) -> None:
        """A plain message to an address (`send_now`); channels without addresses log it."""
        log.info("%s to=%s: %d characters", self.name, mask(message.to), len(message.text))


class InAppChannel(Channel):
    """The notification row itself is the in-app message: nothing travels."""

    name = "inapp"

    def deliver(self, config: Mapping[str, Any], outgoing: Outgoing) -> Outcome:
        return Outcome("sent")


class EmailChannel(Channel):
    name = "email"

    def lacks(self, session: Session, user: User, config: Mapping[str, Any]) -> str | None:
        if not user.email:
            return "no e-mail address"
        if user.email_confirmed_at is None:
            return "the e-mail address is not confirmed"
        if not config.get("MAIL_SERVER"):
            return "e-mail is not set up (MAIL_SERVER)"
        return None

    def prepare(self, session: Session, user: User, config: Mapping[str, Any], outgoing: Outgoing) -> None:
        outgoing.target = user.email
        # A mailing says how to stop it, in the text and in the headers mail clients show as a button.
        unsubscribe = unsubscribe_url(user.id) if outgoing.mailing else None
        subject, text, html = render_email(
            "notifications/email",
            locale=outgoing.locale,
            title=outgoing.title,
            body=outgoing.body,
            url=outgoing.url,
            unsubscribe_url=unsubscribe,
        )
        outgoing.email = Message(
            to=user.email or "",
            subject=subject,
            text=text,
            html=html,
            headers=list_unsubscribe_headers(user.id) if outgoing.mailing else {},
        )

    def deliver(self, config: Mapping[str, Any], outgoing: Outgoing) -> Outcome:
        if outgoing.email is None:
            return Outcome("failed", reason="nothing was prepared to send")
        try:
            send_email(config, outgoing.email)
        except smtplib.SMTPRecipientsRefused as error:
            codes = {code for code, _text in error.recipients.values()}
            passing = all(400 <= code < 500 for code in codes)  # greylisting, a full mailbox for now
            reason = f"the mail server refused the address: {_smtp_reason(error)}"
            return Outcome("retry" if passing else "failed", reason=reason)
        except smtplib.SMTPResponseException as error:
            if 500 <= error.smtp_code < 600:
                return Outcome("failed", reason=f"the mail server refused: {error.smtp_code}")
            return Outcome("retry", reason=f"the mail server answered {error.smtp_code}")
        except (OSError, smtplib.SMTPException) as error:
            return Outcome("retry", reason=f"the mail server is unreachable: {type(error).__name__}")
        return Outcome("sent")

    def send(self, config: Mapping[str, Any], message: Message) -> None:
        send_email(config, message)


def _smtp_reason(error: smtplib.SMTPRecipientsRefused) -> str:
    codes = sorted({code for code, _text in error.recipients.values()})
    return ", ".join(str(code) for code in codes)


class SmsChannel(Channel):
    name = "sms"

    def lacks(self, session: Session, user: User, config: Mapping[str, Any]) -> str | None:
        provider = sms_provider(config)
        if provider is None:
            return "SMS is not set up (SMS_PROVIDER, SMS_URL)"
        missing = provider.missing()
        if missing:
            return f"SMS is not set up: {missing}"
        if not user.phone:
            return "no phone number"
        if user.phone_confirmed_at is None:
            return "the phone number is not confirmed"
        return None

    def prepare(self, session: Session, user: User, config: Mapping[str, Any], outgoing: Outgoing) -> None:
        outgoing.target = user.phone

    def deliver(self, config: Mapping[str, Any], outgoing: Outgoing) -> Outcome:
        provider = sms_provider(config)
        if provider is None:
            return Outcome("failed", reason="SMS is not set up")
        result = provider.send(outgoing.target, sms_text(outgoing.title, outgoing.body, outgoing.url))
        if result.accepted:
            return Outcome("sent", provider_id=result.provider_id)
        return Outcome("retry" if result.retry else "failed", reason=result.reason)

    def send(self, config: Mapping[str, Any], message: Message) -> None:
        provider = sms_provider(config)
        if provider is None:  # not set up: the message is only logged, as before
            super().send(config, message)
            return
        result = provider.send(message.to, message.text)
        if not result.accepted:
            log.warning("sms to=%s not accepted: %s", mask(message.to), result.reason)


def sms_text(title: str, body: str, url: str | None) -> str:
    """Title, body and link in one short text (every character costs: see `sms_parts`)."""
    head = title if not title or title[-1] in ".!?:" else f"{title}."
    return " ".join(part for part in (head, body, url) if part)


class PushChannel(Channel):
    name = "push"

    def lacks(self, session: Session, user: User, config: Mapping[str, Any]) -> str | None:
        if not config.get("VAPID_PRIVATE_KEY"):
            return "push is not set up (VAPID_PRIVATE_KEY)"
        if not live_subscriptions(session, user.id):
            return "no browser subscribed to push messages"
        return None

    def prepare(self, session: Session, user: User, config: Mapping[str, Any], outgoing: Outgoing) -> None:
        outgoing.target = [
            {"id": row.id, "endpoint": row.endpoint, "p256dh": row.p256dh, "auth": row.auth}
            for row in live_subscriptions(session, user.id)
        ]

    def deliver(self, config: Mapping[str, Any], outgoing: Outgoing) -> Outcome:
        payload = {
            "title": outgoing.title,
            "body": outgoing.body,
            "url": outgoing.url,
            "tag": f"notification-{outgoing.notification_id}",
        }
        results = [(row["id"], send_push(config, row, payload)) for row in outgoing.target or ()]
        expired = [row_id for row_id, result in results if result.status == "expired"]
        sent = [result for _row_id, result in results if result.status == "sent"]
        if sent:
            return Outcome("sent", provider_id=sent[0].location, expired_subscriptions=expired)
        reasons = "; ".join(sorted({result.reason or result.status for _row_id, result in results}))
        passing = any(result.status == "retry" for _row_id, result in results)
        return Outcome(
            "retry" if passing else "failed",
            reason=reasons or "no browser subscribed to push messages",
            expired_subscriptions=expired,
        )


def live_subscriptions(session: Session, user_id: int) -> list[PushSubscription]:
    return list(
        session.scalars(
            select(PushSubscription)
            .where(PushSubscription.user_id == user_id, PushSubscription.expired_at.is_(None))
            .order_by(PushSubscription.id)
        )
    )


CHANNELS: dict[str, Channel] = {
    "inapp": InAppChannel(),
    "push": PushChannel(),
    "sms": SmsChannel(),
    "email": EmailChannel(),
}
# After the in-app list, a message goes by the first of these the person allows and has.
FALLBACK = ("push", "sms", "email")
