"""The embedded default: the serving web process, with no Redis, runs the periodic tasks itself."""

from __future__ import annotations

import sqlite3
import subprocess
import urllib.request

from tests import processes


def test_the_web_process_without_redis_runs_every_task_once(tmp_path):
    database = tmp_path / "club.sqlite3"
    env = processes.club_env(f"sqlite:///{database}", "")
    env.pop("REDIS_URL")
    subprocess.run(
        [*processes.FLASK, "db", "upgrade"], env=env, cwd=processes.ROOT, check=True, capture_output=True
    )
    port = processes.free_port()
    server = processes.start([*processes.FLASK, "run", "--port", str(port)], env, tmp_path / "web.log")
    try:
        processes.wait_for(lambda: _answers(port), 30, "the web process")
        tasks = processes.wait_for(lambda: _runs(database), 60, "the periodic tasks")
        assert set(tasks) >= {"points.expire", "reports.send_due", "reports.fold", "jobs.sweep"}
        assert all(count == 1 for count in tasks.values()), tasks
    finally:
        processes.stop(server)
    # A command runs no scheduler: nothing new after `flask jobs schedule`.
    listing = subprocess.run(
        [*processes.FLASK, "jobs", "schedule"],
        env=env,
        cwd=processes.ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    assert "reports.send_due" in listing.stdout and "never" not in listing.stdout


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _runs(database) -> dict[str, int] | None:
    with sqlite3.connect(database) as connection:
        rows = dict(connection.execute("SELECT name, count(*) FROM periodic_runs GROUP BY name").fetchall())
        finished = connection.execute("SELECT count(*) FROM jobs WHERE status = 'finished'").fetchone()[0]
    return rows if len(rows) >= 6 and finished >= len(rows) else None
