"""A mailing's job survives its worker: a real rq worker is killed with SIGKILL mid-mailing."""

from __future__ import annotations

import shutil
import signal
import uuid

import pytest
from sqlalchemy import func, select

from partner_club import create_app
from partner_club.accounts.models import Role
from partner_club.database import utcnow
from partner_club.extensions import db as _db
from partner_club.mailings import jobs, services
from partner_club.mailings.models import Mailing, MailingRecipient, MailingStatus
from partner_club.notifications.models import Notification
from tests import processes
from tests.conftest import _config

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")
PEOPLE = 60


@pytest.fixture
def redis_server():
    server = processes.RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def worker_app(app, db, database_url, redis_server):
    queue_name = f"pc-mailings-{uuid.uuid4().hex[:6]}"
    storage = app.config["RATELIMIT_STORAGE_URI"]
    return create_app(
        _config(database_url, redis_server.url, RQ_QUEUE=queue_name, RATELIMIT_STORAGE_URI=storage)
    )


def _worker(app, database_url, tmp_path, name):
    environment = processes.club_env(
        database_url,
        app.config["REDIS_URL"],
        RQ_QUEUE=app.config["RQ_QUEUE"],
        JOB_HEARTBEAT_SECONDS="0.5",
        JOB_STALE_SECONDS="3",
        JOB_SWEEP_SECONDS="1",
    )
    return processes.start([*processes.FLASK, "worker"], environment, tmp_path / f"{name}.log")


def _handled(app, mailing_id):
    with app.app_context():
        _db.session.expire_all()
        mailing = _db.session.get(Mailing, mailing_id)
        count = services.handled_count(_db.session, mailing_id)
        status = mailing.status
        _db.session.rollback()
        return count, status


def test_a_killed_mailing_resumes_and_nobody_gets_it_twice(worker_app, database_url, tmp_path, make):
    if not database_url.startswith("postgresql"):
        pytest.skip("the resume is proven on PostgreSQL")
    with worker_app.app_context():
        admin = make.user(Role.ADMIN)
        region = make.region()
        shop = make.outlet(region=region)
        for _ in range(PEOPLE):
            make.user(Role.SELLER, outlet=shop)
        services.set_limits(_db.session, cap=5, rate=4, actor=admin)  # 4 a second: slow enough to kill
        mailing = services.save_mailing(
            _db.session,
            services.MailingDraft(
                title_ru="Т",
                title_en="T",
                body_ru="Текст",
                body_en="Text",
                channels=["email"],
                segment={"regions": [region.id]},
            ),
            actor=admin,
        )
        jobs.start_sending(_db.session, mailing, actor=admin, now=utcnow())
        _db.session.commit()
        mailing_id = mailing.id
    first = _worker(worker_app, database_url, tmp_path, "first")
    try:
        processes.wait_for(lambda: _handled(worker_app, mailing_id)[0] >= 8, 60, "the first batches")
    finally:
        processes.stop(first, signal.SIGKILL)
    handled_at_kill = _handled(worker_app, mailing_id)[0]
    assert handled_at_kill < PEOPLE
    second = _worker(worker_app, database_url, tmp_path, "second")
    try:
        processes.wait_for(
            lambda: _handled(worker_app, mailing_id) == (PEOPLE, MailingStatus.SENT.value),
            90,
            "the resumed mailing",
        )
    finally:
        processes.stop(second)
    with worker_app.app_context():
        per_person = _db.session.execute(
            select(Notification.user_id, func.count())
            .where(Notification.mailing_id == mailing_id)
            .group_by(Notification.user_id)
        ).all()
        assert len(per_person) == PEOPLE and all(count == 1 for _user, count in per_person)
        rows = _db.session.scalar(
            select(func.count())
            .select_from(MailingRecipient)
            .where(MailingRecipient.mailing_id == mailing_id)
        )
        assert rows == PEOPLE
        # every delivery began, those the killed worker had committed but not delivered too
        assert services.undelivered(_db.session, _db.session.get(Mailing, mailing_id)) == []
