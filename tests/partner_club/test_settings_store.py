"""Settings cached per process, checked against a version once per transaction."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from partner_club.outlets.models import Outlet
from partner_club.settings_store import (
    VERSION_KEY,
    Setting,
    as_of_version,
    get_setting,
    put_setting,
    version_column,
)


@contextmanager
def settings_reads(engine):
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if "FROM settings" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_transaction_asks_for_the_version_once_and_reads_nothing_more(db, make):
    put_setting(db.session, "test.hot", 1)
    put_setting(db.session, "test.shop", {"mode": "shop"})
    db.session.commit()
    get_setting(db.session, "test.hot", None)  # this process reads the changed settings once
    db.session.commit()
    with settings_reads(db.engine) as reads:
        assert get_setting(db.session, "test.other", "default") == "default"
        make.outlet()  # a flush in between keeps what was read
        db.session.flush()
        assert get_setting(db.session, "test.hot", None) == 1
        assert get_setting(db.session, "test.shop", None) == {"mode": "shop"}
    assert len(reads) == 1  # the version, nothing else


def test_a_new_transaction_sees_what_another_one_changed(db, app):
    put_setting(db.session, "test.value", "old")
    db.session.commit()
    assert get_setting(db.session, "test.value", None) == "old"
    with Session(db.engine) as other:
        put_setting(other, "test.value", "new")
        other.commit()
    # Same transaction: the value read at its start (a setting does not change under a request).
    assert get_setting(db.session, "test.value", None) == "old"
    db.session.commit()
    assert get_setting(db.session, "test.value", None) == "new"


def test_writing_a_setting_is_seen_at_once_in_the_same_transaction(db):
    assert get_setting(db.session, "test.mine", "none") == "none"
    put_setting(db.session, "test.mine", 7)
    assert get_setting(db.session, "test.mine", None) == 7
    assert db.session.query(Outlet).count() == 0  # nothing else was written


def test_a_rolled_back_write_is_not_seen(db):
    put_setting(db.session, "test.kept", "yes")
    db.session.commit()
    put_setting(db.session, "test.kept", "no")
    db.session.rollback()
    assert get_setting(db.session, "test.kept", None) == "yes"


def test_a_statement_carrying_the_version_answers_the_check_and_a_new_one_is_read(db):
    put_setting(db.session, "test.value", "old")
    db.session.commit()
    get_setting(db.session, "test.value", None)
    db.session.commit()
    with settings_reads(db.engine) as reads:
        version = db.session.execute(select(version_column())).scalar()
        as_of_version(db.session, version)
        assert get_setting(db.session, "test.value", None) == "old"
    assert len(reads) == 1  # the carrying statement only
    db.session.commit()
    with db.engine.begin() as other_process:  # a write this process's copy does not hear of
        for key, value in (("test.value", "new"), (VERSION_KEY, "another version")):
            other_process.execute(update(Setting).where(Setting.key == key).values(value=value))
    with settings_reads(db.engine) as reads:
        version = db.session.execute(select(version_column())).scalar()
        as_of_version(db.session, version)
        assert get_setting(db.session, "test.value", None) == "new"
    assert len(reads) == 2  # and, the version having moved on, the table once
