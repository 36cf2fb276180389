"""Client request ids and scan times on POST /api/v1/registrations and its batch form."""

from __future__ import annotations

import io
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask import g
from sqlalchemy import func, select

from codes.jobs import prune_registration_requests
from codes.models import BatchStatus, Registration, RegistrationRequest
from codes.printing import label_png
from fraud.backtest import backtest
from fraud.models import FraudObservation
from fraud.services import FraudConfig
from partner_club.accounts.models import Role
from partner_club.jobs.services import JobContext
from partner_club.signals import HOLD, REJECT, Assessment, registration_checks
from tests.codes.helpers import batch, code


def _post(client, token, body, path="/api/v1/registrations"):
    g.pop("_login_user", None)
    return client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})


def _count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Registration.id)))


def _now() -> datetime:
    return datetime.now(UTC)


def test_a_resend_of_an_accepted_request_gets_the_first_answer_even_after_the_window(
    client, make, db, api_token
):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    make.session.commit()
    token = api_token(seller)
    body = {"code": code(issued, 3), "client_id": str(uuid.uuid4())}
    first = _post(client, token, body)
    assert first.status_code == 201, first.get_json()
    # Long after the ten-minute window in which the same code is answered again without an id:
    db.session.execute(RegistrationRequest.__table__.update().values(created_at=_now() - timedelta(days=2)))
    db.session.execute(Registration.__table__.update().values(created_at=_now() - timedelta(days=2)))
    db.session.commit()
    again = _post(client, token, body)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    without_id = _post(client, token, {"code": code(issued, 3)})
    assert without_id.status_code == 409  # the same code without the id is a repeat, as before
    assert _count(db) == 1


def test_refusals_are_kept_too_and_a_resend_is_not_counted_again(client, make, db, api_token):
    seller, other = make.user(Role.SELLER), make.user(Role.SELLER)
    issued = batch(db.session)
    pending = batch(db.session, status=BatchStatus.PRINTED)
    make.session.commit()
    taken = code(issued, 1)
    assert _post(client, api_token(other), {"code": taken}).status_code == 201
    token = api_token(seller)
    conflict = {"code": taken, "client_id": "conflict-0001"}
    inactive = {"code": code(pending, 1), "client_id": "inactive-0001"}
    first_conflict, first_inactive = _post(client, token, conflict), _post(client, token, inactive)
    assert first_conflict.status_code == 409 and first_inactive.status_code == 422
    assert first_inactive.get_json()["reason"] == "batch_not_active"
    # The batch ships meanwhile: the resend still answers what the first send was told.
    pending.status = BatchStatus.ACTIVATED.value
    make.session.commit()
    counters = _refusal_observations(db)
    assert _post(client, token, inactive).get_json() == first_inactive.get_json()
    assert _post(client, token, conflict).get_json() == first_conflict.get_json()
    assert _refusal_observations(db) == counters  # a resend is not another wrong code
    assert _count(db) == 1


def test_a_held_answer_is_kept_with_its_message(client, make, db, api_token):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    make.session.commit()
    token = api_token(seller)
    body = {"code": code(issued, 8), "client_id": "held-000001"}

    def hold(_attempt):
        return Assessment(decision=HOLD, score=0.8)

    registration_checks.connect(hold)
    try:
        first = _post(client, token, body)
    finally:
        registration_checks.disconnect(hold)
    assert first.status_code == 201 and first.get_json()["status"] == "pending_review"
    assert "message" in first.get_json()
    assert _post(client, token, body).get_json() == first.get_json()


def test_a_fraud_rejection_is_kept_although_the_registration_rolls_back(client, make, db, api_token):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    make.session.commit()
    token = api_token(seller)
    body = {"code": code(issued, 9), "client_id": "rejected-001"}

    def reject(_attempt):
        return Assessment(decision=REJECT, score=5)

    registration_checks.connect(reject)
    try:
        first = _post(client, token, body)
    finally:
        registration_checks.disconnect(reject)
    assert first.status_code == 422 and first.get_json()["reason"] == "fraud_rejected"
    again = _post(client, token, body)  # fraud would accept it now: the first answer stands
    assert again.status_code == 422 and again.get_json() == first.get_json()
    assert _count(db) == 0


def test_client_ids_are_per_person(client, make, db, api_token):
    first, second = make.user(Role.SELLER), make.user(Role.SELLER)
    issued = batch(db.session)
    make.session.commit()
    shared = "same-id-0001"
    assert _post(client, api_token(first), {"code": code(issued, 1), "client_id": shared}).status_code == 201
    assert _post(client, api_token(second), {"code": code(issued, 2), "client_id": shared}).status_code == 201
    assert _count(db) == 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"client_id": "short"}, "bad_client_id"),
        ({"client_id": "has spaces in it"}, "bad_client_id"),
        ({"scanned_at": "yesterday"}, "bad_scanned_at"),
        ({"scanned_at": "2026-12-04T09:30:00"}, "bad_scanned_at"),  # no offset
        ({"scanned_at": 1733300000}, "bad_scanned_at"),
        ({"scanned_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}, "scanned_in_future"),
        ({"scanned_at": (datetime.now(UTC) - timedelta(days=8)).isoformat()}, "scanned_too_long_ago"),
    ],
)
def test_bad_client_ids_and_scan_times_are_refused_clearly(client, make, db, body, reason, api_token):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    make.session.commit()
    response = _post(client, api_token(seller), {"code": code(issued, 4), **body})
    assert response.status_code == 422 and response.get_json()["reason"] == reason
    assert response.get_json()["title"]
    assert _count(db) == 0


def test_fraud_judges_the_time_the_code_was_read(client, make, db, api_token):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    make.session.commit()
    read_at = (_now() - timedelta(hours=5)).replace(microsecond=0)
    response = _post(
        client,
        api_token(seller),
        {"code": code(issued, 5), "client_id": "scan-time-1", "scanned_at": read_at.isoformat()},
    )
    assert response.status_code == 201
    db.session.expire_all()
    observed = db.session.scalar(select(FraudObservation.at).where(FraudObservation.serial == 5))
    assert observed == read_at
    registered = db.session.scalar(select(Registration.created_at))
    assert registered > read_at + timedelta(hours=4)  # the registration itself is dated now


def test_a_code_read_days_before_it_was_sent_waits_for_a_check(client, make, db, api_token, daytime):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    make.session.commit()
    token = api_token(seller)
    read_at = _now() - timedelta(days=3)
    late = _post(client, token, {"code": code(issued, 6), "scanned_at": read_at.isoformat()})
    assert late.status_code == 201 and late.get_json()["status"] == "pending_review"
    reasons = db.session.scalar(select(FraudObservation.reasons).where(FraudObservation.serial == 6))
    assert [r["detector"] for r in reasons] == ["late_scan"]
    recent = _now() - timedelta(hours=2)
    ordinary = _post(client, token, {"code": code(issued, 7), "scanned_at": recent.isoformat()})
    assert ordinary.get_json()["status"] == "accepted"
    # The settings page's backtest knows when each was sent: from its registration.
    flagged = backtest(db.session, FraudConfig(), "late_scan", {"hours": 48, "score": 50})
    assert (flagged.examined, flagged.flagged) == (2, 1)
    assert backtest(db.session, FraudConfig(), "late_scan", {"hours": 96, "score": 50}).flagged == 0


def test_a_queue_of_offline_scans_is_not_held_for_inhuman_speed(client, make, db, api_token, daytime):
    """Twelve codes read a minute apart, sent in one request: the fast-streak rule judges the
    minutes between the reads, not the milliseconds between the sends."""
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    make.session.commit()
    start = _now() - timedelta(hours=1)
    items = [
        {
            "code": code(issued, 20 + n * 7),
            "client_id": f"queue-item-{n:02d}",
            "scanned_at": (start + timedelta(minutes=n)).isoformat(),
            "channel": "typed",
        }
        for n in range(12)
    ]
    answer = _post(client, api_token(seller), {"items": items}, "/api/v1/registrations/batch")
    assert answer.status_code == 200
    statuses = [(r["status"], r["body"].get("status")) for r in answer.get_json()["results"]]
    assert statuses == [(201, "accepted")] * 12


def test_the_batch_answers_each_item_on_its_own(client, make, db, api_token):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    make.session.commit()
    token = api_token(seller)
    good = {"code": code(issued, 1), "client_id": "batch-good-1", "scanned_at": _now().isoformat()}
    items = [
        good,
        {"code": "ABC", "client_id": "batch-short-1"},
        {"code": code(issued, 2), "client_id": "x"},
        "not an object",
        {"code": code(issued, 3), "client_id": "batch-good-2"},
    ]
    answer = _post(client, token, {"items": items}, "/api/v1/registrations/batch")
    assert answer.status_code == 200
    results = answer.get_json()["results"]
    assert [r["status"] for r in results] == [201, 422, 422, 422, 201]
    assert [r["client_id"] for r in results] == ["batch-good-1", "batch-short-1", "x", None, "batch-good-2"]
    assert results[1]["body"]["reason"] == "too_short" and results[2]["body"]["reason"] == "bad_client_id"
    assert _count(db) == 2
    # The whole batch again (the answer was lost): the same answers, nothing new registered.
    again = _post(client, token, {"items": items}, "/api/v1/registrations/batch").get_json()["results"]
    assert [r["body"] for r in again] == [r["body"] for r in results]
    assert _count(db) == 2
    # A single send of an id first sent in a batch gets the same answer.
    assert _post(client, token, good).get_json() == results[0]["body"]


def test_the_batch_is_bounded(client, make, db, api_token):
    seller = make.user(Role.SELLER)
    make.session.commit()
    token = api_token(seller)
    too_many = {"items": [{"code": "X"}] * 51}
    assert (
        _post(client, token, too_many, "/api/v1/registrations/batch").get_json()["reason"] == "too_many_items"
    )
    assert (
        _post(client, token, {"items": []}, "/api/v1/registrations/batch").get_json()["reason"] == "no_items"
    )


def test_both_documented(client, db):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    single = paths["/api/v1/registrations"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"client_id", "scanned_at"} <= set(single["properties"])
    assert "/api/v1/registrations/batch" in paths


def test_two_sends_of_one_id_at_once_register_once_and_get_the_same_answer(app, client, make, db, api_token):
    """The first send holds its claim while it registers; the second waits on the unique
    constraint and then reads the first answer: fraud is asked once, one registration."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a real race needs a server with concurrent writers")
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    make.session.commit()
    token = api_token(seller)
    body = {"code": code(issued, 6), "client_id": str(uuid.uuid4())}
    asked = []

    def slow_check(_attempt):
        asked.append(1)
        time.sleep(0.8)  # the second send arrives while the first is inside its transaction

    answers: dict[int, tuple[int, dict]] = {}

    def send(n: int) -> None:
        with app.test_client() as own:
            response = own.post(
                "/api/v1/registrations", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            answers[n] = (response.status_code, response.get_json())

    registration_checks.connect(slow_check)
    try:
        threads = [threading.Thread(target=send, args=(n,)) for n in range(3)]
        for thread in threads:
            thread.start()
            time.sleep(0.15)
        for thread in threads:
            thread.join(30)
    finally:
        registration_checks.disconnect(slow_check)
    assert len(answers) == 3
    assert {status for status, _body in answers.values()} == {201}
    assert answers[0][1] == answers[1][1] == answers[2][1]
    assert len(asked) == 1
    assert _count(db) == 1


def _refusal_observations(db) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count(FraudObservation.id)).where(FraudObservation.failure.is_not(None))
    )


def test_a_queued_photo_sent_again_gets_the_first_answer(client, make, db, api_token):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    make.session.commit()
    token = api_token(seller)
    the_code = code(issued, 7)
    photo = label_png(the_code, f"http://club.test/c/{the_code}")

    def send():
        g.pop("_login_user", None)
        return client.post(
            "/api/v1/scans",
            data={"register": "1", "client_id": "photo-000001", "image": (io.BytesIO(photo), "label.png")},
            content_type="multipart/form-data",
            headers={"Authorization": f"Bearer {token}"},
        )

    first = send()
    assert first.status_code == 200 and first.get_json()["registered"] == 1
    db.session.execute(Registration.__table__.update().values(created_at=_now() - timedelta(days=1)))
    db.session.commit()
    again = send()
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert _count(db) == 1


def test_answers_older_than_a_month_are_forgotten_by_the_daily_job(app, db, make):
    person = make.user(role=Role.SELLER)
    now = datetime.now(UTC)
    for client_id, age in (("old", timedelta(days=31)), ("recent", timedelta(days=29))):
        db.session.add(
            RegistrationRequest(
                participant_id=person.id, client_id=client_id, status=201, body="{}", created_at=now - age
            )
        )
    db.session.commit()
    assert prune_registration_requests(JobContext(None)) == {"forgotten": 1}
    db.session.commit()
    assert db.session.scalars(select(RegistrationRequest.client_id)).all() == ["recent"]
