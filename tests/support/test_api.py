"""The support desk's JSON API: ownership, scope, pace, pictures, and the OpenAPI document."""

from __future__ import annotations

import io

from partner_club.accounts.models import Role
from partner_club.support import services
from tests.support.helpers import png


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_participant_opens_reads_and_replies(client, make, api_token):
    rep, _, shop = make.rep_with_outlet()
    seller = make.user(Role.SELLER, outlet=shop)
    mine = _auth(api_token(seller))
    created = client.post(
        "/api/v1/support/tickets", json={"topic": "question", "text": "How do points expire?"}, headers=mine
    )
    assert created.status_code == 201, created.get_json()
    ticket = created.get_json()
    assert ticket["status"] == "new" and ticket["messages"][0]["text"] == "How do points expire?"
    assert created.headers["Location"].endswith(f"/api/v1/support/tickets/{ticket['id']}")
    assert [t["id"] for t in client.get("/api/v1/support/tickets", headers=mine).get_json()["tickets"]] == [
        ticket["id"]
    ]

    staff = _auth(api_token(rep))
    queue = client.get("/api/v1/support/tickets?view=queue", headers=staff).get_json()["tickets"]
    assert [t["id"] for t in queue] == [ticket["id"]]
    answered = client.post(
        f"/api/v1/support/tickets/{ticket['id']}/messages", json={"text": "After a year."}, headers=staff
    )
    assert answered.status_code == 201 and answered.get_json()["ticket"]["status"] == "waiting"
    reply = client.post(
        f"/api/v1/support/tickets/{ticket['id']}/messages", json={"text": "Thanks!"}, headers=mine
    )
    assert reply.get_json()["ticket"]["status"] == "in_progress"
    thread = client.get(f"/api/v1/support/tickets/{ticket['id']}", headers=mine).get_json()
    assert [m["from_staff"] for m in thread["messages"]] == [False, True, False]


def test_a_picture_by_multipart_and_a_text_file_refused(client, make, api_token):
    seller = make.user(Role.SELLER)
    mine = _auth(api_token(seller))
    sent = client.post(
        "/api/v1/support/tickets",
        data={"topic": "code", "text": "see the photo", "photo": (io.BytesIO(png()), "p.png")},
        headers=mine,
        content_type="multipart/form-data",
    )
    assert sent.status_code == 201
    assert client.get(sent.get_json()["messages"][0]["photo"], headers=mine).status_code == 200
    refused = client.post(
        "/api/v1/support/tickets",
        data={"topic": "code", "text": "x", "photo": (io.BytesIO(b"plain text"), "p.png")},
        headers=mine,
        content_type="multipart/form-data",
    )
    assert refused.status_code == 415 and refused.get_json()["reason"] == "not_an_image"


def test_others_get_404(client, make, api_token):
    seller = make.user(Role.SELLER)
    ticket_id = client.post(
        "/api/v1/support/tickets",
        json={"topic": "other", "text": "private"},
        headers=_auth(api_token(seller)),
    ).get_json()["id"]
    for stranger in (make.user(Role.SELLER, outlet=seller.outlet), make.rep_with_outlet()[0]):
        headers = _auth(api_token(stranger))
        assert client.get(f"/api/v1/support/tickets/{ticket_id}", headers=headers).status_code == 404
        posted = client.post(
            f"/api/v1/support/tickets/{ticket_id}/messages", json={"text": "x"}, headers=headers
        )
        assert posted.status_code == 404
        queue = client.get("/api/v1/support/tickets?view=queue", headers=headers).get_json()["tickets"]
        assert queue == []
    assert client.get(f"/api/v1/support/tickets/{ticket_id}").status_code == 401


def test_ticket_creation_is_rate_limited(client, make, api_token):
    mine = _auth(api_token(make.user(Role.SELLER)))
    for n in range(services.TICKETS_PER_HOUR):
        assert (
            client.post(
                "/api/v1/support/tickets", json={"topic": "other", "text": f"q{n}"}, headers=mine
            ).status_code
            == 201
        )
    refused = client.post("/api/v1/support/tickets", json={"topic": "other", "text": "again"}, headers=mine)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "3600"


def test_bad_input_is_a_clear_problem(client, make, api_token):
    mine = _auth(api_token(make.user(Role.SELLER)))
    assert (
        client.post("/api/v1/support/tickets", json={"topic": "nope", "text": "x"}, headers=mine).status_code
        == 422
    )
    assert (
        client.post("/api/v1/support/tickets", json={"topic": "other", "text": 5}, headers=mine).status_code
        == 422
    )
    assert (
        client.post("/api/v1/support/tickets", json={"topic": "other"}, headers=mine).get_json()["reason"]
        == "empty_text"
    )


def test_the_calls_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/support/tickets"]) == {"get", "post"}
    assert "get" in paths["/api/v1/support/tickets/{ticket_id}"]
    assert "post" in paths["/api/v1/support/tickets/{ticket_id}/messages"]
