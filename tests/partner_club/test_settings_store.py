"""The per-transaction settings cache: one read per transaction, never older than the transaction."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

from partner_club import settings_store
from partner_club.outlets.models import Outlet
from partner_club.settings_store import get_setting, put_setting, read_together, read_with_next


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


def test_keys_read_together_and_next_come_in_one_read_that_outlives_flushes(db, make, monkeypatch):
    monkeypatch.setattr(settings_store, "_READ_TOGETHER", set(settings_store._READ_TOGETHER))
    read_together("test.hot")
    put_setting(db.session, "test.hot", 1)
    put_setting(db.session, "test.shop", {"mode": "shop"})
    db.session.commit()
    with settings_reads(db.engine) as reads:
        read_with_next(db.session, "test.shop")
        assert get_setting(db.session, "test.other", "default") == "default"
        make.outlet()  # a flush in between keeps what was read
        db.session.flush()
        assert get_setting(db.session, "test.hot", None) == 1
        assert get_setting(db.session, "test.shop", None) == {"mode": "shop"}
        assert get_setting(db.session, "test.other", None) is None
    assert len(reads) == 1


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
