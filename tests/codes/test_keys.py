"""flask codes keys rotate / check: versioned code keys and the proof they still decode."""

from __future__ import annotations

import stat

import pytest
from flask import g

from partner_club.accounts.models import Role
from partner_club.config import instance_keys
from partner_club.settings_store import Setting
from tests.codes.helpers import batch, code, product

KEY_1 = "1:" + "c4" * 32


@pytest.fixture
def key_file(app, tmp_path):
    """The keys as the embedded default keeps them: a file in the instance folder."""
    path = tmp_path / "code_keys"
    path.write_text(KEY_1 + "\n")
    path.chmod(0o600)
    saved = app.config["CODE_KEYS"], app.config.get("CODE_KEYS_FILE")
    app.config.update(CODE_KEYS=KEY_1, CODE_KEYS_FILE=str(path))
    yield path
    app.config["CODE_KEYS"], app.config["CODE_KEYS_FILE"] = saved


def _restart(app, folder) -> None:
    """What the next start of the app reads from the instance folder."""
    config = {"SECRET_KEY": "x", "CODE_KEYS": None}
    instance_keys(config, str(folder))
    app.config["CODE_KEYS"] = config["CODE_KEYS"]


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["codes", "keys", *args])


def test_rotation_adds_a_version_new_batches_use_and_old_codes_still_register(
    app, client, db, make, api_token, key_file
):
    old = batch(db.session, product(db.session))
    db.session.commit()
    result = _cli(app, "rotate")
    assert result.exit_code == 0, result.output
    lines = key_file.read_text().split()
    assert lines[0] == KEY_1 and lines[1].startswith("2:") and len(lines[1]) == 2 + 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    _restart(app, key_file.parent)
    new = batch(db.session, old.product)
    db.session.commit()
    assert (old.key_version, new.key_version) == (1, 2)
    token = api_token(make.user(Role.SELLER))
    for issued in (old, new):
        g.pop("_login_user", None)
        response = client.post(
            "/api/v1/registrations",
            json={"code": code(issued, 7)},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201, response.get_json()
    checked = _cli(app, "check")
    assert checked.exit_code == 0 and "2 batches decode" in checked.output


def test_rotation_with_keys_from_the_environment_prints_the_pair_and_writes_nothing(app, db):
    saved = app.config.get("CODE_KEYS_FILE")
    app.config["CODE_KEYS_FILE"] = None
    try:
        result = app.test_cli_runner().invoke(args=["codes", "keys", "rotate"])
    finally:
        app.config["CODE_KEYS_FILE"] = saved
    assert result.exit_code == 0
    assert "nothing was written" in result.output
    pair = result.output.strip().splitlines()[-1]
    assert pair.startswith("2:") and len(bytes.fromhex(pair[2:])) == 32


def test_check_names_the_batches_a_wrong_or_missing_key_cannot_verify(app, db, key_file):
    first = batch(db.session, product(db.session))
    db.session.commit()
    assert _cli(app, "check").exit_code == 0
    app.config["CODE_KEYS"] = "1:" + "d5" * 32  # a key file lost and made again
    wrong = _cli(app, "check")
    assert wrong.exit_code == 1 and f"batch {first.number}: key version 1 is not the key" in wrong.output
    app.config["CODE_KEYS"] = "2:" + "d5" * 32
    missing = _cli(app, "check")
    assert (
        missing.exit_code == 1 and f"batch {first.number}: key version 1 is not configured" in missing.output
    )


def test_batches_from_before_fingerprints_are_checked_from_the_first_check_on(app, db, key_file):
    batch(db.session, product(db.session))
    db.session.query(Setting).filter(Setting.key == "codes.key_fingerprints").delete()
    db.session.commit()
    assert _cli(app, "check").exit_code == 0
    app.config["CODE_KEYS"] = "1:" + "d5" * 32
    assert _cli(app, "check").exit_code == 1
