"""Helpers for the real-browser journeys."""

from __future__ import annotations

from typing import Any

from tests.factories import PASSWORD


def forget_person(page: Any) -> None:
    """Nobody is signed in on this browser any more. The page's last responses are awaited
    first: each answer, a stylesheet's too, renews the session cookie, and one that lands
    after the cookies are cleared would sign the person back in."""
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()


def sign_in(
    page: Any, login: str, password: str = PASSWORD, *, open_form: bool = True, expect_in: bool = True
) -> None:
    """Signs in through the /login form, as a person would.

    `open_form=False` fills the sign-in form the page already shows (a deep
    link that asked to sign in first); `expect_in=False` does not wait to
    leave the form (a refusal is what the test wants to see).
    """
    if open_form:
        forget_person(page)
        page.goto("/login")
    page.fill("[name=login]", login)
    page.fill("[name=password]", password)
    page.click("button[type=submit]")
    if expect_in:
        page.wait_for_url(lambda url: "/login" not in url)
    else:
        page.wait_for_load_state()
