"""Keys: generated once into the instance folder, never a development value in production."""

from __future__ import annotations

import stat
import subprocess
import sys

import pytest

from partner_club import create_app
from partner_club.config import instance_keys


def test_missing_keys_are_generated_once_with_mode_0600_and_reused(tmp_path, capsys):
    first: dict = {"SECRET_KEY": None, "CODE_KEYS": None}
    instance_keys(first, str(tmp_path))
    said = capsys.readouterr().err
    assert "secret_key" in said and "code_keys" in said
    for name in ("secret_key", "code_keys"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert len(first["SECRET_KEY"]) == 64 and first["CODE_KEYS"].startswith("1:")
    assert first["CODE_KEYS_FILE"] == str(tmp_path / "code_keys")
    again: dict = {"SECRET_KEY": None, "CODE_KEYS": None}
    instance_keys(again, str(tmp_path))
    assert capsys.readouterr().err == ""
    assert again == first


def test_keys_from_the_environment_or_the_caller_write_nothing(tmp_path):
    config = {"SECRET_KEY": "from-env-" + "x" * 40, "CODE_KEYS": "1:" + "e7" * 32}
    instance_keys(config, str(tmp_path))
    assert list(tmp_path.iterdir()) == [] and "CODE_KEYS_FILE" not in config


def _config(tmp_path, **keys):
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}", "TESTING": False, **keys}


@pytest.mark.parametrize(
    ("keys", "named"),
    [
        ({"SECRET_KEY": "dev-only-secret-change-me", "CODE_KEYS": "1:" + "e7" * 32}, "SECRET_KEY"),
        ({"SECRET_KEY": "s" * 64, "CODE_KEYS": "1:" + "5f" * 32}, "CODE_KEYS"),
        ({"SECRET_KEY": "s" * 64, "CODE_KEYS": "2:" + "e7" * 32 + ",1:" + "5F" * 32}, "CODE_KEYS"),
    ],
)
def test_the_app_refuses_to_start_on_a_development_key(tmp_path, keys, named):
    with pytest.raises(RuntimeError, match=named) as refused:
        create_app(_config(tmp_path, **keys))
    assert "set" in str(refused.value)


def test_debug_and_testing_may_use_development_keys(tmp_path):
    keys = {"SECRET_KEY": "dev-only-secret-change-me", "CODE_KEYS": "1:" + "5f" * 32}
    assert create_app(_config(tmp_path, DEBUG=True, **keys)).config["SECRET_KEY"] == keys["SECRET_KEY"]
    assert create_app(_config(tmp_path, **{**keys, "TESTING": True})).testing


def test_processes_starting_together_agree_on_one_key(tmp_path):
    script = (
        "import sys; from partner_club.config import instance_keys; c = {}; "
        "instance_keys(c, sys.argv[1]); print(c['SECRET_KEY'], c['CODE_KEYS'])"
    )
    starts = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    seen = {start.communicate(timeout=60)[0].strip() for start in starts}
    assert len(seen) == 1 and sorted(p.name for p in tmp_path.iterdir()) == ["code_keys", "secret_key"]
