"""The installable app's pieces: manifest, service worker, offline page, versioned static files."""

from __future__ import annotations

import io
import re

from PIL import Image

from partner_club.accounts.models import Role


def test_the_manifest_opens_full_screen_on_home_with_png_icons(client, db):
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body = manifest.get_json()
    assert body["display"] == "standalone" and body["start_url"] == "/" and body["scope"] == "/"
    assert body["name"] and body["theme_color"].startswith("#")
    pngs = {(i["sizes"], i["purpose"]): i["src"] for i in body["icons"] if i["type"] == "image/png"}
    assert set(pngs) == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for (sizes, _purpose), src in pngs.items():
        response = client.get(src)
        assert response.status_code == 200
        side = int(sizes.split("x")[0])
        assert Image.open(io.BytesIO(response.data)).size == (side, side)


def test_the_service_worker_is_served_at_the_root_with_a_versioned_cache(client, db):
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in worker.headers["Content-Security-Policy"]
    text = worker.get_data(as_text=True)
    version = re.search(r'const VERSION = "([0-9a-f]{12})"', text)
    assert version
    for kept in (
        '"/scan/"',
        '"/codes/register"',
        '"/offline"',
        "/static/js/outbox/send.js",
        "/static/css/club.css",
    ):
        assert kept in text
    # Every static file the worker keeps exists.
    for url in re.findall(r'"(/static/[^"]+)"', text):
        assert client.get(url).status_code == 200, url


def test_the_offline_page_says_what_still_works(client, make, login, db):
    login(make.user(Role.SELLER))
    page = client.get("/offline").get_data(as_text=True)
    assert 'href="/codes/register"' in page and 'href="/scan/"' in page


def test_static_urls_carry_their_version_and_are_kept_for_a_year(client, make, login, db):
    login(make.user(Role.SELLER))
    page = client.get("/codes/register").get_data(as_text=True)
    url = re.search(r'href="(/static/css/club\.css\?v=[0-9a-f]{12})"', page).group(1)
    assert "immutable" in client.get(url).headers["Cache-Control"]
    assert client.get("/static/css/club.css").headers["Cache-Control"] == "no-cache"
    assert client.get("/static/css/club.css?v=000000000000").headers["Cache-Control"] == "no-cache"
    # The participant's pages start the outbox (and the worker) for the signed-in person.
    assert re.search(r'src="/static/js/outbox/start\.js\?v=\w+" data-outbox-person="\d+"', page)
    assert "data-outbox" in page and 'id="outbox-texts"' in page
