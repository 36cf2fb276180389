"""register_code: the one path every typed, linked, scanned code takes."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from codes import issuing, services
from codes.models import BatchStatus, Registration, RegistrationStatus
from codes.normalize import LAYOUT
from codes.services import (
    AlreadyRegistered,
    CodeRejected,
    RegistrationContext,
    Rejected,
    register_code,
)
from fraud.models import FraudObservation
from partner_club import throttle
from partner_club.accounts.models import Role, User
from partner_club.database import utcnow
from partner_club.errors import Forbidden, TooManyAttempts
from partner_club.ledger.models import Account, LedgerEntry, PointLot
from partner_club.ledger.policy import (
    ExpiryPolicy,
    RegistrationRule,
    store_expiry_policy,
    store_registration_rule,
)
from partner_club.ledger.services import Balance, balance_of
from partner_club.settings_store import get_setting
from partner_club.signals import (
    HOLD,
    REJECT,
    Assessment,
    registration_checks,
    registration_recorded,
    registration_reviewed,
)
from reports.models import DailyProductRollup
from reports.rollups import fold_registrations
from tests.codes.helpers import batch, code, product

CTX = RegistrationContext(ip="10.0.0.7", device="pytest")
TO_LAYOUT = {latin: cyr for cyr, latin in LAYOUT.items()}


def _count(session) -> int:
    return session.scalar(select(func.count(Registration.id)))


def test_the_lookup_answers_the_transactions_settings_check(db, make):
    seller = make.user(Role.SELLER)
    issued = batch(db.session, product(db.session, points="25"))
    store_expiry_policy(db.session, ExpiryPolicy(months=6), actor_id=None)  # settings to read
    register_code(db.session, seller, code(issued, 6), channel="typed", ctx=CTX)  # opens the account
    db.session.commit()
    get_setting(db.session, "any", None)  # this process reads the changed settings once
    db.session.commit()
    sent: list[str] = []
    listener = lambda *args: sent.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        register_code(db.session, seller, code(issued, 7), channel="typed", ctx=CTX)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    reads = [statement for statement in sent if "FROM settings" in statement]
    assert len(reads) == 1 and "FROM batches" in reads[0]  # no SELECT of its own for the version


def test_a_typed_code_earns_the_products_points(db, make):
    seller = make.user(Role.SELLER)
    issued = batch(db.session, product(db.session, points="25"))
    result = register_code(db.session, seller, code(issued, 7), channel="typed", ctx=CTX)
    assert (result.status, result.points, result.product["sku"]) == ("accepted", 25, "PAINT-10L")
    stored = db.session.get(Registration, result.registration_id)
    assert (stored.batch_id, stored.serial, stored.participant_id, stored.ip) == (
        issued.id,
        7,
        seller.id,
        "10.0.0.7",
    )
    # A seller of a shop with the default rule (everything to the person) gets every point.
    assert balance_of(db.session, seller) == Balance(active=25, pending=0)
    assert result.breakdown == [{"source": "base", "points": 25}]
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.cause_id == str(result.registration_id)))
    assert (entry.cause_type, entry.amount, entry.breakdown) == (
        "registration",
        25,
        [{"source": "base", "points": 25}],
    )
    assert _count(db.session) == 1


def test_the_shops_rule_and_the_expiry_policy_apply_to_a_registration(db, make):
    """The stored settings decide where points go and when they expire; each share's entry
    says where its points came from."""
    owner = make.user(Role.OWNER)
    seller = make.user(Role.SELLER, outlet=owner.outlet)
    store_registration_rule(
        db.session, RegistrationRule("split", 60), outlet_id=owner.outlet_id, actor_id=owner.id
    )
    store_expiry_policy(db.session, ExpiryPolicy("months", 3), actor_id=None)
    issued = batch(db.session, product(db.session, points="25"))
    db.session.commit()
    at = utcnow()
    register_code(
        db.session, seller, code(issued, 3), channel="typed", ctx=RegistrationContext(ip="10.0.0.7", at=at)
    )
    db.session.commit()
    shares = db.session.execute(
        select(Account.kind, PointLot.amount, PointLot.expires_at)
        .join(PointLot, PointLot.account_id == Account.id)
        .order_by(Account.kind)
    ).all()
    expires = ExpiryPolicy("months", 3).expires_at(at)
    assert [tuple(row) for row in shares] == [("outlet", 10, expires), ("person", 15, expires)]
    breakdowns = db.session.scalars(select(LedgerEntry.breakdown).order_by(LedgerEntry.amount)).all()
    assert breakdowns == [[{"source": "base", "points": 10}], [{"source": "base", "points": 15}]]


def test_points_per_cubic_metre_times_volume_are_rounded(db, make):
    seller = make.user(Role.SELLER)
    issued = batch(db.session, product(db.session, sku="BEAM", points="120/m3", volume=0.0375))
    result = register_code(db.session, seller, code(issued, 1), channel="typed", ctx=CTX)
    assert result.points == round(120 * 0.0375)


def test_russian_layout_and_lookalikes_register(db, make):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    typed = "".join(TO_LAYOUT.get(ch, ch) for ch in code(issued, 3)).lower()
    assert register_code(db.session, seller, typed, channel="typed", ctx=CTX).status == "accepted"
    assert db.session.scalar(select(Registration.serial)) == 3


def test_a_club_link_registers_its_code(db, make):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    link = f"http://club.test/c/{code(issued, 4)}"
    assert register_code(db.session, seller, link, channel="qr", ctx=CTX).status == "accepted"


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (BatchStatus.GENERATED, "batch_not_active"),
        (BatchStatus.PRINTED, "batch_not_active"),
        (BatchStatus.VOIDED, "batch_voided"),
    ],
)
def test_only_activated_batches_earn(db, make, status, reason):
    seller = make.user(Role.SELLER)
    issued = batch(db.session, status=status)
    with pytest.raises(CodeRejected) as error:
        register_code(db.session, seller, code(issued, 1), channel="typed", ctx=CTX)
    assert error.value.code == reason and _count(db.session) == 0


def test_serial_beyond_the_batch_and_voided_ranges_are_refused(db, make):
    seller = make.user(Role.SELLER)
    issued = batch(db.session, count=10)
    issuing.void_range(db.session, issued, 3, 5, reason="damaged roll", actor=None)
    with pytest.raises(CodeRejected) as error:
        register_code(db.session, seller, code(issued, 11), channel="typed", ctx=CTX)
    assert error.value.code == "serial_out_of_range"
    with pytest.raises(CodeRejected) as error:
        register_code(db.session, seller, code(issued, 4), channel="typed", ctx=CTX)
    assert error.value.code == "batch_voided"
    assert register_code(db.session, seller, code(issued, 6), channel="typed", ctx=CTX).points == 25


def test_an_unknown_batch_is_refused(db, make):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    stranger = services.current_scheme().encode(issued.number + 50, 1)
    with pytest.raises(CodeRejected) as error:
        register_code(db.session, seller, stranger, channel="typed", ctx=CTX)
    assert error.value.code == "unknown_batch"


def test_second_registration_names_nobody(db, make):
    first, second = make.user(Role.SELLER), make.user(Role.SELLER)
    issued = batch(db.session)
    the_code = code(issued, 9)
    register_code(db.session, first, the_code, channel="typed", ctx=CTX)
    with pytest.raises(AlreadyRegistered) as error:
        register_code(db.session, second, the_code, channel="typed", ctx=CTX)
    assert error.value.status == 409
    # "another participant", in the default Russian; the first person's login is never told
    assert "другой участник" in error.value.message
    assert first.login not in error.value.message and first.full_name not in error.value.message
    assert _count(db.session) == 1


def test_retrying_the_same_code_gives_the_same_answer_and_no_double_points(db, make):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    the_code = code(issued, 9)
    first = register_code(db.session, seller, the_code, channel="typed", ctx=CTX)
    before = balance_of(db.session, seller)
    again = register_code(db.session, seller, the_code.lower(), channel="api", ctx=CTX)
    assert again.registration_id == first.registration_id and again.created is False
    assert balance_of(db.session, seller) == before and _count(db.session) == 1
    later = RegistrationContext(ip=CTX.ip, at=utcnow() + timedelta(hours=2))
    with pytest.raises(AlreadyRegistered) as error:
        register_code(db.session, seller, the_code, channel="typed", ctx=later)
    assert "Вы уже зарегистрировали" in error.value.message  # "registered by you on"


def test_staff_do_not_register_codes(db, make):
    rep = make.user(Role.REP)
    issued = batch(db.session)
    with pytest.raises(Forbidden):
        register_code(db.session, rep, code(issued, 1), channel="typed", ctx=CTX)


@pytest.mark.parametrize(("status", "reason"), [("pending", "awaiting_approval"), ("blocked", "blocked")])
def test_unapproved_or_blocked_sellers_do_not_register(db, make, status, reason):
    seller = make.user(Role.SELLER, status=status)
    issued = batch(db.session)
    with pytest.raises(Forbidden) as error:
        register_code(db.session, seller, code(issued, 1), channel="typed", ctx=RegistrationContext())
    assert error.value.code == reason
    assert _count(db.session) == 0


def test_fraud_hold_makes_points_pending_and_review_settles_them(db, make):
    seller = make.user(Role.SELLER, territory_id=make.territory().id, outlet=None)
    issued = batch(db.session)

    def hold(_attempt):
        return Assessment(decision=HOLD, score=0.8)

    recorded = []

    def remember(_attempt, *, registration_id, assessment, credits, **_kwargs):
        recorded.append((registration_id, assessment.decision, [(c.bucket, c.amount) for c in credits]))

    registration_checks.connect(hold)
    registration_recorded.connect(remember)
    try:
        result = register_code(db.session, seller, code(issued, 2), channel="typed", ctx=CTX)
    finally:
        registration_checks.disconnect(hold)
        registration_recorded.disconnect(remember)
    assert result.status == "pending_review"
    assert recorded == [(result.registration_id, HOLD, [("pending", 25)])]
    assert balance_of(db.session, seller).pending == 25 and balance_of(db.session, seller).active == 0
    services.review_registration(db.session, result.registration_id, decision="accept", reviewer=None)
    assert balance_of(db.session, seller).active == 25 and balance_of(db.session, seller).pending == 0
    assert db.session.get(Registration, result.registration_id).status == RegistrationStatus.ACCEPTED.value


def test_review_signal_rejects_held_points(db, make):
    seller = make.user(Role.SELLER, territory_id=make.territory().id, outlet=None)
    admin = make.user(Role.ADMIN)
    issued = batch(db.session)
    registration_checks.connect(_hold)
    try:
        result = register_code(db.session, seller, code(issued, 2), channel="typed", ctx=CTX)
    finally:
        registration_checks.disconnect(_hold)
    registration_reviewed.send(
        result.registration_id,
        session=db.session,
        decision="reject",
        reviewer=admin,
        note="same device as 40 others",
    )
    stored = db.session.get(Registration, result.registration_id)
    assert stored.status == "rejected" and stored.reviewed_by_id == admin.id
    assert balance_of(db.session, seller).pending == 0 and balance_of(db.session, seller).active == 0


def _hold(_attempt):
    return Assessment(decision=HOLD)


def test_fraud_rejection_writes_nothing(db, make):
    seller = make.user(Role.SELLER)
    issued = batch(db.session)

    def refuse(_attempt):
        return Assessment(decision=REJECT)

    registration_checks.connect(refuse)
    try:
        with pytest.raises(Rejected) as error:
            register_code(db.session, seller, code(issued, 2), channel="typed", ctx=CTX)
    finally:
        registration_checks.disconnect(refuse)
    assert error.value.code == "fraud_rejected" and _count(db.session) == 0


def test_canary_codes_are_held_never_paid_at_once(db, make):
    seller = make.user(Role.SELLER, territory_id=make.territory().id, outlet=None)
    canary = batch(db.session, status=BatchStatus.GENERATED, is_canary=True)
    try:  # codes holds it at least; the fraud package may reject it outright
        result = register_code(db.session, seller, code(canary, 1), channel="typed", ctx=CTX)
    except Rejected:
        assert _count(db.session) == 0
    else:
        assert result.status == "pending_review"
    assert balance_of(db.session, seller).active == 0


def test_invalid_attempts_slow_down_then_stop(db, make):
    seller = make.user(Role.SELLER)
    db.session.commit()
    start = utcnow()
    wrong = "ABCDEFGHJKMN0"
    refusals = 0
    for i in range(5):
        with pytest.raises(CodeRejected):
            register_code(
                db.session,
                seller,
                wrong,
                channel="typed",
                ctx=RegistrationContext(ip="10.1.1.1", at=start + timedelta(seconds=i)),
            )
        db.session.commit()
    # the sixth failure is still counted; the next attempt right after it must wait
    with pytest.raises(CodeRejected):
        register_code(
            db.session,
            seller,
            wrong,
            channel="typed",
            ctx=RegistrationContext(ip="10.1.1.1", at=start + timedelta(seconds=6)),
        )
    db.session.commit()
    with pytest.raises(TooManyAttempts) as error:
        register_code(
            db.session,
            seller,
            wrong,
            channel="typed",
            ctx=RegistrationContext(ip="10.1.1.1", at=start + timedelta(seconds=6)),
        )
    assert error.value.retry_after >= 1 and error.value.status == 429
    assert throttle.failures_of(db.session, "code", f"user:{seller.id}") == 6
    # waiting long enough each time, failures go on until the hard stop
    moment = start + timedelta(seconds=10)
    while True:
        moment += timedelta(seconds=61)
        try:
            register_code(
                db.session, seller, wrong, channel="typed", ctx=RegistrationContext(ip="10.1.1.1", at=moment)
            )
        except CodeRejected:
            refusals += 1
            db.session.commit()
            continue
        except TooManyAttempts as stop:
            assert stop.retry_after > 60 * 50  # stopped for about an hour
            break
    assert refusals == throttle.CODE_LIMITS["user"].hard - 6


def test_points_are_credited_to_an_account_the_session_already_holds(db, make, daytime):
    """The ledger's Core UPDATE moves the balance; an Account loaded before shows the new one."""
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    first = register_code(db.session, seller, code(issued, 1), channel="typed", ctx=CTX)  # opens the account
    account = db.session.scalar(select(Account).where(Account.user_id == seller.id))
    assert account.active == 25
    registration_checks.connect(_hold)
    try:
        held = register_code(db.session, seller, code(issued, 2), channel="typed", ctx=CTX)
    finally:
        registration_checks.disconnect(_hold)
    register_code(db.session, seller, code(issued, 3), channel="typed", ctx=CTX)
    assert (account.active, account.pending) == (50, 25)
    entries = db.session.execute(
        select(LedgerEntry.cause_id, LedgerEntry.bucket, LedgerEntry.amount).order_by(LedgerEntry.id)
    ).all()
    assert [tuple(e) for e in entries] == [
        (str(first.registration_id), "active", 25),
        (str(held.registration_id), "pending", 25),
        (str(held.registration_id + 1), "active", 25),
    ]
    assert db.session.scalar(select(func.count()).select_from(PointLot)) == 2  # held points have none yet


def test_the_shops_rule_can_give_every_point_to_the_shop(db, make):
    owner = make.user(Role.OWNER)
    seller = make.user(Role.SELLER, outlet=owner.outlet)
    store_registration_rule(
        db.session, RegistrationRule("shop", 0), outlet_id=owner.outlet_id, actor_id=owner.id
    )
    issued = batch(db.session)
    register_code(db.session, seller, code(issued, 1), channel="typed", ctx=CTX)
    register_code(db.session, owner, code(issued, 2), channel="typed", ctx=CTX)
    balances = db.session.execute(select(Account.kind, Account.active).order_by(Account.kind)).all()
    assert [tuple(row) for row in balances] == [("outlet", 50)]  # nobody's personal account was opened


def _race(app, db, the_code: str, ids: list[int]) -> dict[int, str]:
    """register_code for each person at once, each in a thread of its own, past the
    'is it registered?' check together; what each got."""
    barrier = threading.Barrier(len(ids), timeout=20)
    outcomes: dict[int, str] = {}

    def wait_for_the_other(_attempt):
        barrier.wait()  # both have passed the pre-check before either inserts

    def attempt(n: int, user_id: int) -> None:
        with app.app_context():
            person = db.session.get(User, user_id)
            try:
                result = services.register_code(db.session, person, the_code, channel="typed", ctx=CTX)
                db.session.commit()
                outcomes[n] = "registered" if result.created else "answered again"
            except AlreadyRegistered:
                db.session.rollback()
                outcomes[n] = "already"
            finally:
                db.session.remove()

    registration_checks.connect(wait_for_the_other)
    try:
        threads = [threading.Thread(target=attempt, args=(n, user_id)) for n, user_id in enumerate(ids)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        registration_checks.disconnect(wait_for_the_other)
    return outcomes


def test_two_people_racing_for_one_code_get_one_registration(app, db, make):
    """Both pass the 'is it registered?' check; the unique constraint decides."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a real race needs a server with concurrent writers")
    first, second = make.user(Role.SELLER), make.user(Role.SELLER)
    the_code = code(batch(db.session), 11)
    make.session.commit()
    outcomes = _race(app, db, the_code, [first.id, second.id])
    assert sorted(outcomes.values()) == ["already", "registered"]
    db.session.expire_all()
    assert _count(db.session) == 1


def test_a_double_tap_stores_one_registration_and_its_rows_once(app, db, make):
    """The same person's two requests: the second is answered with the first's registration and
    commits too, without the rows written with a registration (fraud's observation, the points) and
    without being counted twice in the rollups."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a real race needs a server with concurrent writers")
    seller = make.user(Role.SELLER)
    issued = batch(db.session)
    register_code(db.session, seller, code(issued, 11), channel="typed", ctx=CTX)
    the_code = code(issued, 12)
    make.session.commit()
    outcomes = _race(app, db, the_code, [seller.id, seller.id])
    assert sorted(outcomes.values()) == ["answered again", "registered"]
    db.session.expire_all()
    assert _count(db.session) == 2
    assert db.session.scalar(select(func.count()).select_from(FraudObservation)) == 2
    fold_registrations(db.session)  # the fold job's work (an rq worker's, with Redis)
    assert db.session.scalar(select(func.sum(DailyProductRollup.registrations))) == 2
    assert balance_of(db.session, seller).active == 50  # credited once
    assert db.session.scalar(select(func.count()).select_from(PointLot)) == 2
