"""The profile page: details, a new e-mail or phone confirmed by a one-time code, channels."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select, update

from partner_club.accounts.models import Role
from partner_club.accounts.profile import CODES_PER_PERSON_HOUR, MAX_ATTEMPTS
from partner_club.accounts.profile_channels import list_unsubscribe_headers, unsubscribe_token
from partner_club.accounts.profile_models import ContactConfirmation
from partner_club.database import utcnow
from partner_club.notifications.models import Notification
from partner_club.notifications.services import allowed_channels, set_channels
from tests.factories import PASSWORD
from tests.notifications import fixtures as notification_fixtures

EN = {"Accept-Language": "en"}
sms = notification_fixtures.sms  # the SMS provider's stand-in server


smtp = notification_fixtures.smtp  # a local mail server


def _codes(inbox) -> list[str]:
    """The six-digit codes of the e-mails the server got, in order."""
    return [re.search(r"\b(\d{6})\b", m.get_payload(decode=True).decode()).group(1) for m in inbox.messages]


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _ask_email(client, address: str, password: str = PASSWORD):
    return client.post("/account/profile/email", data={"value": address, "password": password}, headers=EN)


def _confirm(client, code: str, field: str = "email"):
    return client.post(f"/account/profile/{field}/confirm", data={"code": code}, headers=EN)


def test_the_page_shows_the_person_and_saves_name_language_and_zone(client, make, login, db):
    person = make.user(Role.SELLER, login="+79123456789", phone="+79123456789")
    login(person)
    page = client.get("/account/profile", headers=EN)
    assert page.status_code == 200
    assert "+79123456789" in _text(page) and "How we tell you" in _text(page)
    saved = client.post(
        "/account/profile",
        data={"full_name": "  Anna   Petrova ", "locale": "ru", "time_zone": "Asia/Novosibirsk"},
        headers=EN,
    )
    assert saved.status_code == 302
    db.session.refresh(person)
    assert (person.full_name, person.locale, person.time_zone) == ("Anna Petrova", "ru", "Asia/Novosibirsk")
    refused = client.post(
        "/account/profile", data={"full_name": "A", "locale": "ru", "time_zone": "Mars/Base"}
    )
    assert refused.status_code == 422
    db.session.refresh(person)
    assert person.time_zone == "Asia/Novosibirsk"


def test_a_new_email_takes_effect_only_with_the_code_sent_to_it(client, make, login, db, smtp):
    person = make.user(Role.SELLER, login="old@example.com", email="old@example.com")
    login(person)
    assert _ask_email(client, "New@Example.com").status_code == 302
    [message] = smtp.messages
    assert message["To"] == "new@example.com"
    [code] = _codes(smtp)
    stored = db.session.scalar(select(ContactConfirmation))
    assert code not in stored.code_hash  # only a salted hash is kept
    db.session.refresh(person)
    assert person.email == "old@example.com"  # nothing changes before the code comes back
    wrong = "000000" if code != "000000" else "111111"
    refused = _confirm(client, wrong)
    assert refused.status_code == 422 and f"Tries left: {MAX_ATTEMPTS - 1}" in _text(refused)
    assert _confirm(client, code).status_code == 302
    db.session.refresh(person)
    assert person.email == "new@example.com" and person.email_confirmed_at is not None
    assert person.login == "new@example.com"  # the login was the old address: it follows
    assert _confirm(client, code).status_code == 422  # used up


def test_changing_the_email_needs_the_current_password_and_tells_the_old_address(
    client, make, login, db, smtp
):
    person = make.user(Role.SELLER, login="old@example.com", email="old@example.com")
    login(person)
    for missing in ("", "wrong-password"):
        refused = _ask_email(client, "thief@example.com", missing)
        assert refused.status_code == 422
    assert "The current password is wrong." in _text(refused)
    assert smtp.messages == [] and db.session.scalar(select(ContactConfirmation)) is None
    assert _ask_email(client, "new@example.com").status_code == 302
    [code] = _codes(smtp)
    assert _confirm(client, code).status_code == 302
    [_, told] = smtp.messages
    assert told["To"] == "old@example.com"
    assert (
        "was changed" in told["Subject"] and "reset your password" in told.get_payload(decode=True).decode()
    )


def test_wrong_passwords_on_the_profile_count_against_the_sign_in_limits(
    app, client, make, login, db, smtp, monkeypatch
):
    monkeypatch.setitem(app.config, "PROFILE_CODE_RATE_LIMIT", "100 per minute")
    person = make.user(Role.SELLER)
    login(person)
    for _ in range(6):
        _ask_email(client, "thief@example.com", "wrong-password")
    # The limits of the person's login now hold: the right password waits too.
    held = _ask_email(client, "new@example.com")
    assert held.status_code == 429 and "Too many wrong passwords" in _text(held)
    assert smtp.messages == []


def test_a_new_phone_tells_the_old_number_in_the_persons_language(client, make, login, db, sms):
    person = make.user(Role.SELLER, phone="+79120000000", locale="ru")
    login(person)
    asked = client.post(
        "/account/profile/phone", data={"value": "+79123456789", "password": PASSWORD}, headers=EN
    )
    assert asked.status_code == 302
    code = re.search(r"\b(\d{6})\b", sms.received[0].json()["text"]).group(1)
    assert _confirm(client, code, "phone").status_code == 302
    told = sms.received[-1].json()
    assert told["to"] == "+79120000000" and "изменён" in told["text"]


def test_an_expired_code_is_refused(client, make, login, db, smtp):
    person = make.user(Role.SELLER)
    login(person)
    _ask_email(client, "later@example.com")
    [code] = _codes(smtp)
    db.session.execute(update(ContactConfirmation).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    answer = _confirm(client, code)
    assert answer.status_code == 422 and "expired" in _text(answer)
    db.session.refresh(person)
    assert person.email != "later@example.com"


def test_too_many_wrong_codes_kill_the_code(client, make, login, db, smtp):
    person = make.user(Role.SELLER)
    login(person)
    _ask_email(client, "guess@example.com")
    [code] = _codes(smtp)
    wrong = "000000" if code != "000000" else "111111"
    answers = [_confirm(client, wrong).status_code for _ in range(MAX_ATTEMPTS)]
    assert answers == [422] * (MAX_ATTEMPTS - 1) + [429]
    final = _confirm(client, code)  # even the right one: the tries are spent
    assert final.status_code == 429 and "Ask for a new one" in _text(final)
    db.session.refresh(person)
    assert person.email != "guess@example.com"
    assert db.session.scalar(select(ContactConfirmation.attempts)) == MAX_ATTEMPTS


def test_the_code_form_is_rate_limited_per_network_address(client, make, login, db):
    login(make.user(Role.SELLER))
    answers = [_ask_email(client, f"x{n}@example.com").status_code for n in range(6)]
    assert answers[-1] == 429


def test_codes_are_rate_limited_per_person_and_per_address(app, client, make, login, db, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "PROFILE_CODE_RATE_LIMIT", "100 per minute")
    person = make.user(Role.SELLER)
    login(person)
    for n in range(CODES_PER_PERSON_HOUR):
        assert _ask_email(client, f"try{n}@example.com").status_code == 302
    refused = _ask_email(client, "one-more@example.com")
    assert refused.status_code == 429 and "Too many codes" in _text(refused)
    assert len(smtp.messages) == CODES_PER_PERSON_HOUR
    # Another account cannot flood the same address either.
    for other in (make.user(Role.SELLER) for _ in range(4)):
        client.post("/logout")
        login(other)
        _ask_email(client, "victim@example.com")
    assert sum(m["To"] == "victim@example.com" for m in smtp.messages) == 3


def test_a_new_phone_gets_its_code_by_sms_and_never_in_the_in_app_list(client, make, login, db, sms):
    person = make.user(Role.SELLER, login="seller@example.com", email="seller@example.com", locale="ru")
    login(person)
    asked = client.post(
        "/account/profile/phone", data={"value": "8 912 345-67-89", "password": PASSWORD}, headers=EN
    )
    assert asked.status_code == 302
    [sent] = sms.received
    text = sent.json()["text"]
    assert sent.json()["to"] == "+79123456789" and text.startswith("Клуб партнёров: код подтверждения ")
    code = re.search(r"\b(\d{6})\b", sent.json()["text"]).group(1)
    assert db.session.scalar(select(func.count(Notification.id))) == 0  # the code is no in-app message
    assert _confirm(client, code, "phone").status_code == 302
    db.session.refresh(person)
    assert person.phone == "+79123456789" and person.phone_confirmed_at is not None
    assert person.login == "seller@example.com"  # the login is the e-mail: it stays


def test_a_phone_of_another_country_gets_no_code(client, make, login, db, sms):
    person = make.user(Role.SELLER, login="seller@example.com", email="seller@example.com")
    login(person)
    asked = client.post(
        "/account/profile/phone", data={"value": "+44 7911 123456", "password": PASSWORD}, headers=EN
    )
    assert asked.status_code == 422
    assert "Codes by SMS go only to numbers starting with +7" in asked.get_data(as_text=True)
    assert sms.received == [] and db.session.scalar(select(ContactConfirmation)) is None


def test_a_refused_request_sends_nothing(client, make, login, db, smtp):
    person = make.user(Role.SELLER)
    login(person)
    answer = _ask_email(client, "not-an-address")
    assert answer.status_code == 422
    assert smtp.messages == [] and db.session.scalar(select(ContactConfirmation)) is None


def test_channels_are_saved_and_points_keep_the_in_app_list(client, make, login, db):
    person = make.user(Role.SELLER)
    login(person)
    saved = client.post(
        "/account/profile/channels", data={"points": ["inapp"], "orders": ["email"], "mailings": []}
    )
    assert saved.status_code == 302
    assert allowed_channels(db.session, person.id, "points") == ()
    assert allowed_channels(db.session, person.id, "orders") == ("email",)
    assert allowed_channels(db.session, person.id, "mailings") == ()
    page = _text(client.get("/account/profile", headers=EN))
    assert "Always in the app" in page


def test_nobody_edits_another_persons_preferences(client, make, login, api_token, db):
    owner = make.user(Role.OWNER)
    other = make.user(Role.SELLER)
    token = api_token(other)
    headers = {"Authorization": f"Bearer {token}"}
    answer = client.patch("/api/v1/me/preferences", json={"channels": {"orders": []}}, headers=headers)
    assert answer.status_code == 200
    assert allowed_channels(db.session, owner.id, "orders") == ("push", "sms", "email")  # untouched
    assert allowed_channels(db.session, other.id, "orders") == ()
    # A seller has no "people" group; staff have no points: such groups are refused, not stored.
    refused = client.patch("/api/v1/me/preferences", json={"channels": {"people": []}}, headers=headers)
    assert refused.status_code == 422
    assert (
        client.patch("/api/v1/me/preferences", json={"user_id": owner.id, "channels": {}}).status_code == 401
    )


def test_preferences_in_the_api(client, make, api_token, db):
    person = make.user(Role.OWNER)
    headers = {"Authorization": f"Bearer {api_token(person)}"}
    body = client.get("/api/v1/me/preferences", headers=headers).get_json()
    assert body["channels"]["people"] == ["push", "sms", "email"]
    assert body["always_in_app"] == ["orders", "points"]
    changed = client.patch(
        "/api/v1/me/preferences",
        json={"locale": "en", "time_zone": "Asia/Almaty", "channels": {"campaigns": ["email", "inapp"]}},
        headers=headers,
    ).get_json()
    assert changed["channels"]["campaigns"] == ["email"] and changed["time_zone"] == "Asia/Almaty"
    bad = client.patch("/api/v1/me/preferences", json={"channels": {"campaigns": ["fax"]}}, headers=headers)
    assert bad.status_code == 422
    spec = client.get("/api/v1/openapi.json").get_json()
    assert set(spec["paths"]["/api/v1/me/preferences"]) == {"get", "patch"}


def test_the_unsubscribe_link_switches_mailings_off_without_signing_in(client, make, db):
    person = make.user(Role.SELLER)
    make.session.commit()
    headers = list_unsubscribe_headers(person.id)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<http://club\.test(/unsubscribe/\S+)>", headers["List-Unsubscribe"]).group(1)
    # Opening the link (a mail scanner does) only asks: nothing changes on a GET.
    page = client.get(link, headers=EN)
    assert page.status_code == 200 and "Unsubscribe from mailings?" in _text(page)
    assert allowed_channels(db.session, person.id, "mailings") == ("push", "sms", "email")
    done = client.post(link, headers=EN)  # the page's button
    assert done.status_code == 200 and "You are unsubscribed from mailings" in _text(done)
    assert allowed_channels(db.session, person.id, "mailings") == ()
    assert allowed_channels(db.session, person.id, "points") == ("push", "sms", "email")  # untouched
    undo = re.search(r'action="(/unsubscribe/undo/[^"]+)"', done.get_data(as_text=True)).group(1)
    assert client.post(undo).status_code == 200
    assert allowed_channels(db.session, person.id, "mailings") == ("push", "sms", "email")
    # The mail client's one-click POST (RFC 8058) works too, without a form token.
    assert client.post(link, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert allowed_channels(db.session, person.id, "mailings") == ()


def test_undoing_an_unsubscribe_brings_back_the_channels_the_person_had(client, make, db):
    person = make.user(Role.SELLER)
    make.session.commit()
    set_channels(db.session, person.id, "mailings", ["email"])
    db.session.commit()
    done = client.post(f"/unsubscribe/{unsubscribe_token(person.id)}", headers=EN)
    undo = re.search(r'action="(/unsubscribe/undo/[^"]+)"', done.get_data(as_text=True)).group(1)
    assert allowed_channels(db.session, person.id, "mailings") == ()
    assert client.post(undo).status_code == 200
    assert allowed_channels(db.session, person.id, "mailings") == ("email",)  # not push and SMS too
    forged = undo[:-2] + ("AA" if not undo.endswith("AA") else "BB")
    assert client.post(forged).status_code == 404


def test_a_tampered_unsubscribe_link_is_refused(client, make, db):
    person = make.user(Role.SELLER)
    other = make.user(Role.SELLER)
    make.session.commit()
    token = unsubscribe_token(person.id)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (forged, unsubscribe_token(other.id).split(".")[0] + "." + token.split(".")[1], "nonsense"):
        answer = client.get(f"/unsubscribe/{bad}", headers=EN)
        assert answer.status_code == 404 and "This link is not valid" in _text(answer)
    assert client.post(f"/unsubscribe/{forged}").status_code == 404
    assert client.post(f"/unsubscribe/undo/{forged}").status_code == 404
    assert allowed_channels(db.session, person.id, "mailings") == ("push", "sms", "email")
    assert allowed_channels(db.session, other.id, "mailings") == ("push", "sms", "email")
