"""A built wheel, installed in a fresh virtual environment, serves every page in Russian.

The wheel is built the way a release is (`python -m build`: an sdist, then the wheel
from it), unpacked into a new venv's site-packages, and run from a folder outside the
checkout, so templates, static files, migrations, region data and compiled catalogs
can only come from the wheel. The venv borrows the dependencies of this one through a
.pth line (a plain path: this venv's editable install of the checkout is not loaded).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "wheel-Password-1"

# Each page, who asks for it, and the msgid of its <title> (None: no title to check).
PAGES = [
    ("anonymous", "/login", "partner_club", "Sign in"),
    ("seller", "/", None, None),
    ("seller", "/codes/register", "codes", "Register a code"),
    ("seller", "/prizes/", "catalog", "Prizes"),
    ("admin", "/reports/map", "reports", "KPI map"),
    ("admin", "/admin/people", "partner_club", "People"),
    ("admin", "/admin/shops", "partner_club", "Shops"),
    ("admin", "/admin/territories", "partner_club", "Regions and territories"),
    ("admin", "/admin/audit", "partner_club", "Audit log"),
    ("admin", "/codes/products", None, None),
    ("admin", "/fraud/", None, None),
    ("admin", "/prizes/admin/orders", None, None),
    ("anonymous", "/static/css/club.css", None, None),
    ("anonymous", "/static/css/map.css", None, None),
    ("anonymous", "/static/icons/sprite.svg", None, None),
    ("anonymous", "/api/v1/openapi.json", None, None),
]

# Runs inside the new venv, from a folder outside the checkout: prints one JSON answer.
SERVE = """
import json, sys
import partner_club
from partner_club import create_app
from partner_club.accounts.services import create_user
from partner_club.extensions import db
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Region
from sqlalchemy import select

pages, password = json.loads(sys.argv[1]), sys.argv[2]
app = create_app({"WTF_CSRF_ENABLED": False})
with app.app_context():
    region = db.session.scalars(select(Region).order_by(Region.id)).first()
    outlet = Outlet(external_id="EXT-1", name="Shop 1", kind="shop", region_id=region.id, lat=55.79, lon=49.12)
    db.session.add(outlet)
    db.session.flush()
    create_user(db.session, role="seller", login="seller@example.com", password=password, outlet=outlet)
    db.session.commit()
clients = {"anonymous": app.test_client()}
for role in ("seller", "admin"):
    clients[role] = app.test_client()
    signed_in = clients[role].post("/login", data={"login": f"{role}@example.com", "password": password})
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)[:300]
answers = {}
for role, path in pages:
    response = clients[role].get(path, headers={"Accept-Language": "ru"})
    answers[path] = [response.status_code, response.get_data(as_text=True)]
print(json.dumps({"package": partner_club.__file__, "pages": answers}))
"""


def _russian(package: str, msgid: str) -> str:
    path = ROOT / package / "translations" / "ru" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        text = read_po(handle, locale="ru").get(msgid).string
    assert text and text != msgid
    return text


def test_the_built_wheel_serves_every_page_in_russian(tmp_path):
    # A copy of the files git knows: nothing built or compiled before (an old SOURCES.txt,
    # .mo files) can stand in for what the build itself must produce.
    source = tmp_path / "source"
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
        cwd=source,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (wheel,) = dist.glob("partner_club-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for package in ("partner_club", "codes", "fraud", "catalog", "reports"):
        assert f"{package}/translations/ru/LC_MESSAGES/messages.mo" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    zipfile.ZipFile(wheel).extractall(site)
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(away),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'club.sqlite3'}",
        "SECRET_KEY": "wheel-test-" + "5" * 32,
        "CODE_KEYS": "1:" + "b2" * 32,
        "FLASK_APP": "partner_club",
    }

    def run(*args: str) -> str:
        done = subprocess.run(
            [str(python), *args], cwd=away, env=env, capture_output=True, text=True, timeout=240
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
        return done.stdout

    run("-m", "flask", "db", "upgrade")  # the migrations inside the wheel
    run("-m", "flask", "regions", "import")  # the bundled regions file inside the wheel
    admin = ("--role", "admin", "--login", "admin@example.com", "--password", PASSWORD)
    run("-m", "flask", "users", "create", *admin)
    answer = json.loads(run("-c", SERVE, json.dumps([[role, path] for role, path, _, _ in PAGES]), PASSWORD))

    assert Path(answer["package"]).is_relative_to(venv), answer["package"]
    for _, path, package, msgid in PAGES:
        status, body = answer["pages"][path]
        assert status == 200, (path, body[:500])
        if msgid is not None:
            assert f"<title>{_russian(package, msgid)} ·" in body, (path, body[:500])
    openapi = json.loads(answer["pages"]["/api/v1/openapi.json"][1])
    assert "/api/v1/me" in openapi["paths"]
