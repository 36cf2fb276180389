"""The browser reads a typed code from the same tables as the server: generated, never copied by hand."""

from __future__ import annotations

import pytest

from codes.browser_table import TABLE_PATH, render
from codes.normalize import LAYOUT, LOOKALIKE, CodeRejected, read
from codes.scheme import ALPHABET, check_symbol
from partner_club.accounts.models import Role
from tests.browser import sign_in

TO_LOOKALIKE = {latin: cyrillic for cyrillic, latin in LOOKALIKE.items()}
TO_LAYOUT = {latin: cyrillic for cyrillic, latin in LAYOUT.items()}


def test_the_committed_table_is_what_the_python_tables_generate():
    assert TABLE_PATH.read_text(encoding="utf-8") == render(), (
        "partner_club/static/js/codes/table.js is out of date: run tools/build_code_table.py"
    )


def _code(data: str) -> str:
    return data + check_symbol(data)


def _typings() -> list[str]:
    plain = _code("7K3MHX0PCTEA")  # letters with Cyrillic look-alikes
    layout = _code("QWRTYHP4SDFG")
    return [
        plain,
        "".join(TO_LOOKALIKE.get(ch, ch) for ch in plain),  # Cyrillic look-alikes (С, Т, Е, К, М...)
        "  " + "-".join([plain[:4], plain[4:8].lower(), plain[8:]]) + " ",
        plain.replace("0", "O").replace("1", "I"),
        "".join(TO_LAYOUT.get(ch, ch) for ch in layout).lower(),  # the Russian layout left on
        "".join(TO_LOOKALIKE.get(ch, ch) for ch in plain[:12])
        + ALPHABET[(ALPHABET.index(plain[12]) + 1) % 32],
        plain[:11],
        plain + "9",
        "12#4",
    ]


def _server(raw: str) -> str:
    try:
        return read(raw).candidates[0]
    except CodeRejected:
        return ""


@pytest.mark.browser
def test_the_page_reads_cyrillic_and_layout_typing_as_the_server_does(phone, make):
    seller = make.user(Role.SELLER)
    make.session.commit()
    phone.goto("/codes/register")
    sign_in(phone, seller.login, open_form=False)
    phone.wait_for_url("**/codes/register")
    for raw in _typings():
        phone.fill("[data-code-input]", raw)
        browser = phone.get_attribute("[data-code-input]", "data-reading")
        assert browser == _server(raw), raw
    assert _server(_typings()[1]) == _typings()[0]  # the look-alike typing is the code itself
    assert phone.evaluate("typeof window.clubCodes") == "undefined"  # no globals
