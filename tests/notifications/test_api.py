"""The notifications API: one's own list, unread count and marking read; push subscriptions."""

from __future__ import annotations

import re

from sqlalchemy import select

from partner_club.accounts.models import Role
from partner_club.notifications.models import PushSubscription
from partner_club.notifications.services import Kind, notify, register_kind, unread_count

register_kind(
    Kind(name="test.api_points", group="points", title="%(points)s points credited", body="Well done.")
)


def _bearer(api_token, person):
    return {"Authorization": f"Bearer {api_token(person)}"}


def test_the_list_is_ones_own_newest_first_with_the_unread_count(client, db, make, api_token):
    person, other = make.user(Role.SELLER, locale="en"), make.user(Role.SELLER)
    old = notify(db.session, person.id, "test.api_points", params={"points": 10}, link="/points/")
    new = notify(db.session, person.id, "test.api_points", params={"points": 20})
    notify(db.session, other.id, "test.api_points", params={"points": 99})
    db.session.commit()
    answer = client.get(
        "/api/v1/notifications", headers={**_bearer(api_token, person), "Accept-Language": "en"}
    )
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["unread"] == 2
    assert [item["id"] for item in body["items"]] == [new.id, old.id]
    assert body["items"][1] == {
        "id": old.id,
        "kind": "test.api_points",
        "title": "10 points credited",
        "body": "Well done.",
        "link": "/points/",
        "created_at": body["items"][1]["created_at"],
        "read": False,
    }
    assert body["vapid_public_key"]
    paged = client.get(f"/api/v1/notifications?limit=1&before={new.id}", headers=_bearer(api_token, person))
    assert [item["id"] for item in paged.get_json()["items"]] == [old.id]
    bad = client.get("/api/v1/notifications?limit=0", headers=_bearer(api_token, person))
    assert bad.status_code == 422 and bad.get_json()["reason"] == "bad_limit"
    assert client.get("/api/v1/notifications").status_code == 401


def test_marking_read_touches_only_ones_own(client, db, make, api_token):
    person, other = make.user(Role.SELLER), make.user(Role.SELLER)
    mine = notify(db.session, person.id, "test.api_points", params={"points": 1})
    notify(db.session, person.id, "test.api_points", params={"points": 2})
    theirs = notify(db.session, other.id, "test.api_points", params={"points": 3})
    db.session.commit()
    headers = _bearer(api_token, person)
    answer = client.post("/api/v1/notifications/read", json={"ids": [mine.id, theirs.id]}, headers=headers)
    assert answer.get_json() == {"marked": 1, "unread": 1}
    assert unread_count(db.session, other.id) == 1
    for bad in ({"ids": "all"}, {"ids": [True]}, {"ids": list(range(1, 502))}, {"ids": [-1]}):
        refused = client.post("/api/v1/notifications/read", json=bad, headers=headers)
        assert refused.status_code == 422 and refused.get_json()["reason"] == "bad_ids"
    assert client.post("/api/v1/notifications/read", json={}, headers=headers).get_json() == {
        "marked": 1,
        "unread": 0,
    }


def test_the_site_session_needs_the_csrf_header(client, db, make, login, app, monkeypatch):
    person = make.user(Role.SELLER)
    db.session.commit()
    login(person)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    refused = client.post("/api/v1/notifications/read", json={})
    assert refused.status_code == 400 and refused.get_json()["reason"] == "csrf"


def test_push_subscriptions_are_added_and_removed_by_their_owner(client, db, make, api_token, push):
    person, other = make.user(Role.SELLER), make.user(Role.SELLER)
    db.session.commit()
    sub = push.subscription("phone")
    added = client.post("/api/v1/push/subscriptions", json=sub, headers=_bearer(api_token, person))
    assert added.status_code == 201
    bad = client.post(
        "/api/v1/push/subscriptions",
        json={"endpoint": sub["endpoint"], "keys": {"p256dh": "xx", "auth": "yy"}},
        headers=_bearer(api_token, person),
    )
    assert bad.status_code == 422 and bad.get_json()["reason"] == "bad_subscription"
    removed = client.delete(
        "/api/v1/push/subscriptions", json={"endpoint": sub["endpoint"]}, headers=_bearer(api_token, other)
    )
    assert removed.get_json() == {"removed": 0}  # not theirs
    removed = client.delete(
        "/api/v1/push/subscriptions", json={"endpoint": sub["endpoint"]}, headers=_bearer(api_token, person)
    )
    assert removed.get_json() == {"removed": 1}
    assert db.session.scalars(select(PushSubscription)).all() == []


def test_the_calls_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get"} <= set(paths["/api/v1/notifications"])
    assert {"post"} <= set(paths["/api/v1/notifications/read"])
    assert {"post", "delete"} <= set(paths["/api/v1/push/subscriptions"])


def test_signing_out_ends_this_browsers_push_subscription(client, db, make, login, api_token, push):
    person = make.user(Role.SELLER)
    db.session.commit()
    other_phone = push.subscription("other-phone")
    kept = client.post("/api/v1/push/subscriptions", json=other_phone, headers=_bearer(api_token, person))
    assert kept.status_code == 201
    login(person)
    page = client.get("/account/profile").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    shared = push.subscription("shared-phone")
    added = client.post("/api/v1/push/subscriptions", json=shared, headers={"X-CSRFToken": token})
    assert added.status_code == 201
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 302 and out.headers["Clear-Site-Data"] == '"cache"'
    left = db.session.scalars(select(PushSubscription.endpoint)).all()
    assert left == [other_phone["endpoint"]]  # the person's other browser still gets them
