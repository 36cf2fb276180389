"""Helpers for the real-browser journeys."""

from __future__ import annotations

from typing import Any

from tests.factories import PASSWORD


def sign_in(
    page: Any, login: str, password: str = PASSWORD, *, open_form: bool = True, expect_in: bool = True
) -> None:
    """Signs in through the /login form, as a person would.

    `open_form=False` fills the sign-in form the page already shows (a deep
    link that asked to sign in first); `expect_in=False` does not wait to
    leave the form (a refusal is what the test wants to see).
    """
    if open_form:
        page.context.clear_cookies()
        page.goto("/login")
    page.fill("[name=login]", login)
    page.fill("[name=password]", password)
    page.click("button[type=submit]")
    if expect_in:
        page.wait_for_url(lambda url: "/login" not in url)
    else:
        page.wait_for_load_state()
