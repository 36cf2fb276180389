"""Links people give (a page to return to, a ticket's page) stay on the club's site."""

from __future__ import annotations

import pytest

from partner_club.links import is_local_path


@pytest.mark.parametrize("value", ["/", "/points/?page=2", "/support/7#reply", "/c/ABCD-EFGH"])
def test_paths_on_the_site_are_kept(value):
    assert is_local_path(value)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "points",
        "//evil.example/x",
        "/\\evil.example/x",
        "/\t/evil.example",
        "/\n/evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/ok\x00",
    ],
)
def test_other_sites_in_disguise_are_refused(value):
    assert not is_local_path(value)


def test_sign_in_never_sends_a_person_to_another_site(client, make):
    person = make.user(role="seller", password="secret-pass-1")
    answer = client.post(
        "/login?next=/%5Cevil.example/x", data={"login": person.login, "password": "secret-pass-1"}
    )
    assert answer.status_code == 302 and "evil.example" not in answer.headers["Location"]
