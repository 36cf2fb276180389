"""Delivery through the real stand-ins: fallback, retries with back-off, skipped with reasons.

The kinds here are urgent, so the quiet hours (tested in test_quiet_hours.py) never hold
them whatever the hour the tests run at.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from partner_club.accounts.models import Role, User
from partner_club.database import utcnow
from partner_club.notifications.delivery import set_channels
from partner_club.notifications.jobs import deliver_due, deliver_notification
from partner_club.notifications.models import Delivery, Notification, PushSubscription
from partner_club.notifications.push import subscribe
from partner_club.notifications.services import Kind, notify, register_kind
from partner_club.notifications.sms import READ_TIMEOUT

register_kind(
    Kind(
        name="test.order_shipped",
        group="orders",
        title="Order %(number)s shipped",
        body="Track %(tracking)s.",
        urgent=True,
    )
)
register_kind(Kind(name="test.campaign", group="campaigns", title="A new campaign", urgent=True))


def _person(make, **kw):
    values = {"email": "anna@example.com", "phone": "+7 912 345-67-89", "locale": "en"}
    values.update(kw)
    person = make.user(Role.SELLER, **values)
    now = utcnow()
    if person.email:
        person.email_confirmed_at = now
    if person.phone:
        person.phone_confirmed_at = now
    return person


def _deliveries(db, notification_id) -> dict[str, Delivery]:
    db.session.expire_all()
    rows = db.session.scalars(select(Delivery).where(Delivery.notification_id == notification_id))
    return {row.channel: row for row in rows}


def _notify(db, person, work_jobs, **params):
    note = notify(
        db.session,
        person.id,
        "test.order_shipped",
        params={"number": "A-12", "tracking": "RR1", **params},
        link="/catalog/orders/12",
    )
    db.session.commit()
    work_jobs()
    return note.id


def test_sms_goes_out_when_there_is_no_push_subscription(db, make, sms, smtp, work_jobs):
    person = _person(make)
    note_id = _notify(db, person, work_jobs)
    rows = _deliveries(db, note_id)
    assert (
        rows["push"].status == "skipped" and rows["push"].reason == "no browser subscribed to push messages"
    )
    assert rows["sms"].status == "sent" and rows["sms"].provider_id == "sms-1" and rows["sms"].attempts == 1
    assert "email" not in rows and smtp.messages == []
    [got] = sms.received
    assert got.json() == {
        "to": "+79123456789",
        "text": "Order A-12 shipped. Track RR1. http://club.test/catalog/orders/12",
        "sender": "CLUB",
    }


def test_a_failing_provider_is_retried_then_given_up_and_the_message_falls_back_to_email(
    db, make, sms, smtp, work_jobs, retry_at_once
):
    person = _person(make)
    sms.mode = "error"
    # The change that caused the message commits with it, whatever the provider does later.
    person.full_name = "Anna Shipped"
    note_id = _notify(db, person, work_jobs)
    rows = _deliveries(db, note_id)
    assert rows["sms"].status == "waiting" and rows["sms"].attempts == 1
    assert rows["sms"].reason == "the SMS provider answered HTTP 500"
    deliver_due(None)
    assert _deliveries(db, note_id)["sms"].attempts == 2
    deliver_due(None)
    rows = _deliveries(db, note_id)
    assert rows["sms"].status == "failed" and rows["sms"].attempts == 3
    assert rows["sms"].reason == "gave up after 3 attempts: the SMS provider answered HTTP 500"
    assert rows["email"].status == "sent"
    assert len(sms.received) == 3
    [mail] = smtp.messages
    assert mail["To"] == "anna@example.com" and mail["Subject"] == "Order A-12 shipped"
    assert mail["List-Unsubscribe"] is None  # not a mailing: nothing to unsubscribe from
    text = mail.get_body(("plain",)).get_content()
    assert "Track RR1." in text and f"http://club.test/notifications/{note_id}/open?via=email" in text
    assert f"/notifications/{note_id}/open?via=email" in mail.get_body(("html",)).get_content()
    assert db.session.get(User, person.id).full_name == "Anna Shipped"


def test_a_timeout_after_the_request_is_not_sent_again_and_email_takes_over(db, make, sms, smtp, work_jobs):
    """No answer in time to a request the gateway got: it may have sent the SMS, so a second
    one (paid twice, read twice) is not sent; the e-mail carries the message."""
    person = _person(make)
    sms.mode, sms.delay = "slow", 2.5
    note_id = _notify(db, person, work_jobs)
    rows = _deliveries(db, note_id)
    assert rows["sms"].status == "failed" and rows["sms"].reason == READ_TIMEOUT
    assert rows["email"].status == "sent" and len(smtp.messages) == 1
    assert deliver_due(None) == {"notifications": 0}
    assert len(sms.received) == 1


def test_a_provider_that_cannot_be_reached_is_retried_with_back_off(
    db, make, sms, smtp, work_jobs, app, monkeypatch
):
    person = _person(make)
    monkeypatch.setitem(app.config, "SMS_URL", "http://127.0.0.1:9/send")  # nothing listens there
    before = utcnow()
    note_id = _notify(db, person, work_jobs)
    row = _deliveries(db, note_id)["sms"]
    assert row.status == "waiting" and "unreachable" in row.reason
    # The first back-off is NOTIFY_RETRY_INTERVALS[0] (60 s by default): not due yet.
    assert before + timedelta(seconds=59) < row.next_attempt_at < utcnow() + timedelta(seconds=61)
    assert deliver_due(None) == {"notifications": 0}
    assert smtp.messages == []


def test_a_passing_trouble_then_success_is_one_sms_sent_on_the_second_attempt(
    db, make, sms, work_jobs, retry_at_once
):
    person = _person(make)
    sms.script = ["error"]
    note_id = _notify(db, person, work_jobs)
    assert _deliveries(db, note_id)["sms"].status == "waiting"
    assert deliver_due(None) == {"notifications": 1}
    row = _deliveries(db, note_id)["sms"]
    assert row.status == "sent" and row.attempts == 2 and row.reason is None and row.provider_id == "sms-2"
    assert deliver_due(None) == {"notifications": 0}  # nothing is sent twice
    assert len(sms.received) == 2


def test_push_first_then_an_expired_subscription_falls_back(db, make, push, sms, smtp, work_jobs, app):
    person = _person(make)
    subscription = push.subscription("phone")
    subscribe(db.session, person.id, subscription["endpoint"], **subscription["keys"], config=app.config)
    note_id = _notify(db, person, work_jobs)
    rows = _deliveries(db, note_id)
    assert rows["push"].status == "sent" and "sms" not in rows
    assert rows["push"].provider_id == f"{push.url}/messages/1"
    [payload] = push.payloads
    assert payload["title"] == "Order A-12 shipped" and payload["body"] == "Track RR1."
    assert payload["url"] == f"http://club.test/notifications/{note_id}/open?via=push"

    push.gone.add("phone")
    second = _notify(db, person, work_jobs)
    rows = _deliveries(db, second)
    assert rows["push"].status == "failed" and "dropped the subscription (410)" in rows["push"].reason
    assert rows["sms"].status == "sent"
    expired = db.session.scalars(select(PushSubscription)).one()
    assert expired.expired_at is not None
    third = _notify(db, person, work_jobs)
    assert _deliveries(db, third)["push"].reason == "no browser subscribed to push messages"
    assert push.failures == []


def test_the_persons_choices_are_followed(db, make, sms, smtp, work_jobs):
    person = _person(make)
    set_channels(db.session, person.id, "orders", ["email"])
    note_id = _notify(db, person, work_jobs)
    rows = _deliveries(db, note_id)
    assert rows["push"].reason == rows["sms"].reason == "switched off in the person's choices"
    assert rows["email"].status == "sent" and sms.received == [] and len(smtp.messages) == 1


def test_a_person_with_no_channel_is_recorded_as_skipped_and_keeps_the_in_app_message(
    db, make, sms, smtp, work_jobs
):
    person = _person(make, email=None, phone="+79120000000")
    person.phone_confirmed_at = None  # typed but never confirmed
    note_id = _notify(db, person, work_jobs)
    rows = _deliveries(db, note_id)
    assert {c: (r.status, r.reason) for c, r in rows.items()} == {
        "push": ("skipped", "no browser subscribed to push messages"),
        "sms": ("skipped", "the phone number is not confirmed"),
        "email": ("skipped", "no e-mail address"),
    }
    assert db.session.get(Notification, note_id).read_at is None  # still in the in-app list
    assert sms.received == [] and smtp.messages == []


def test_a_rolled_back_change_sends_nothing(db, make, sms, work_jobs):
    person = _person(make)
    db.session.commit()
    notify(db.session, person.id, "test.order_shipped", params={"number": "1", "tracking": "t"})
    db.session.rollback()
    work_jobs()
    assert sms.received == []
    assert db.session.scalars(select(Notification)).all() == []


def test_a_blocked_person_gets_nothing_outside_the_app(db, make, sms, work_jobs):
    person = _person(make)
    person.status = "blocked"
    note_id = _notify(db, person, work_jobs)
    assert {r.reason for r in _deliveries(db, note_id).values()} == {"the person is blocked"}
    assert sms.received == []


def test_a_bounced_address_fails_with_the_reason_and_a_busy_server_is_retried(db, make, smtp, work_jobs):
    person = _person(make, phone=None)
    smtp.refused.add("anna@example.com")
    note_id = _notify(db, person, work_jobs)
    row = _deliveries(db, note_id)["email"]
    assert row.status == "failed" and row.reason == "the mail server refused the address: 550"
    smtp.refused.clear()
    smtp.busy = True
    second = _notify(db, person, work_jobs)
    row = _deliveries(db, second)["email"]
    assert row.status == "waiting" and row.reason == "the mail server refused the address: 451"
    assert smtp.messages == []


def test_a_mailing_may_deliver_in_its_own_job(db, make, sms, work_jobs):
    person = _person(make)
    note = notify(db.session, person.id, "test.campaign", deliver=False, mailing_id=5)
    db.session.commit()
    work_jobs()
    assert _deliveries(db, note.id) == {} and sms.received == []
    deliver_notification(None, note.id)
    assert _deliveries(db, note.id)["sms"].status == "sent"
    assert sms.received[0].json()["text"] == "A new campaign."


def test_an_operator_tries_a_persons_channels_from_the_command_line(app, db, make, sms):
    person = _person(make)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["notifications", "test", person.login])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "push: skipped (attempts 0) no browser subscribed to push messages",
        "sms: sent (attempts 1) sms-1",
    ]
    assert sms.received[0].json()["text"].startswith("A test message from the club.")
    missing = app.test_cli_runner().invoke(args=["notifications", "test", "nobody@example.com"])
    assert missing.exit_code != 0 and "No account" in missing.output
