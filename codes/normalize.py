"""Turning what a person typed (or a scanned link) into candidate codes.

People type codes on phones, often with the Russian keyboard layout on or
with Cyrillic letters that look like Latin ones. Normalisation removes case,
spaces and dashes, reads Crockford's look-alikes (O -> 0, I/L -> 1) and reads
every Cyrillic letter both ways it can mean:

* as a look-alike (Cyrillic "С" looks like Latin "C"), and
* as the key it sits on in the ЙЦУКЕН layout (Cyrillic "С" is on the "C" key,
  "Ф" on "A", "И" on "B").

Some letters read differently (Cyrillic "К" looks like "K" but sits on "R").
The text itself usually tells which way it was typed: a letter only the
layout explains (Ф, И, Я...) means the layout was on, a Latin letter means
look-alikes. Only when every letter could be either are both readings tried,
and then the check symbol decides (and the batch table after it: the
service takes the first candidate that decrypts to an issued code). One
reading per way of typing keeps the check symbol's promise: every single
wrong symbol and every swap of neighbours is caught. The same rules run in the browser
(`partner_club/static/js/codes/normalize.js`, reading `table.js`, which
`tools/build_code_table.py` generates from these tables) so a typo is caught before sending.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _

from codes.scheme import ALPHABET, CODE_LENGTH, is_well_formed
from partner_club.errors import Invalid

# Crockford's own look-alikes.
CROCKFORD = {"O": "0", "I": "1", "L": "1"}

# Cyrillic letters that look like Latin letters or digits.
LOOKALIKE = {
    "А": "A",
    "В": "B",
    "Е": "E",
    "К": "K",
    "М": "M",
    "Н": "H",
    "О": "0",
    "Р": "P",
    "С": "C",
    "Т": "T",
    "Х": "X",
    "З": "3",
    "Ч": "4",
    "Б": "6",
}

# ЙЦУКЕН: the Latin key under each Cyrillic letter (letters only; punctuation
# keys such as Х, Ъ, Ж, Э, Б, Ю have no letter under them).
LAYOUT = {
    "Й": "Q",
    "Ц": "W",
    "У": "E",
    "К": "R",
    "Е": "T",
    "Н": "Y",
    "Г": "U",
    "Ш": "I",
    "Щ": "O",
    "З": "P",
    "Ф": "A",
    "Ы": "S",
    "В": "D",
    "А": "F",
    "П": "G",
    "Р": "H",
    "О": "J",
    "Л": "K",
    "Д": "L",
    "Я": "Z",
    "Ч": "X",
    "С": "C",
    "М": "V",
    "И": "B",
    "Т": "N",
    "Ь": "M",
}

_IGNORED = re.compile(r"[\s\-\u2010-\u2015_.]+")


class CodeRejected(Invalid):
    """A typed code that is not a valid club code; `.code` says why."""


@dataclass(frozen=True)
class Reading:
    text: str  # the cleaned input, letters upper-case, separators removed
    candidates: list[str]  # well-formed 13-symbol codes, best first


def _latin(symbol: str) -> str:
    return CROCKFORD.get(symbol, symbol)


def _options(char: str) -> tuple[str, ...]:
    """Possible Crockford readings of one character, look-alike first."""
    if char in ALPHABET:
        return (char,)
    if char in CROCKFORD:
        return (CROCKFORD[char],)
    found = []
    for table in (LOOKALIKE, LAYOUT):
        latin = table.get(char)
        if latin is not None:
            latin = _latin(latin)
            if latin in ALPHABET and latin not in found:
                found.append(latin)
    return tuple(found)


def extract(raw: str, public_url: str | None = None) -> str:
    """The code part of the input: a bare code or a club link `<public URL>/c/<code>`."""
    text = raw.strip()
    if "://" in text or text.lower().startswith("www."):
        lowered = text.lower()
        base = (public_url or "").lower().rstrip("/")
        marker = "/c/"
        if base and not lowered.startswith(base + marker):
            raise CodeRejected(_msg("not_a_club_link"), code="not_a_club_link")
        if marker not in lowered:
            raise CodeRejected(_msg("not_a_club_link"), code="not_a_club_link")
        text = text[lowered.rindex(marker) + len(marker) :].split("?")[0].split("#")[0]
    return text


def read(raw: str, public_url: str | None = None) -> Reading:
    """Every well-formed reading of the input; raises CodeRejected with a reason."""
    text = _IGNORED.sub("", extract(raw, public_url)).upper()
    if not text:
        raise CodeRejected(_msg("empty"), code="empty")
    options = [_options(char) for char in text]
    if any(not option for option in options):
        raise CodeRejected(_msg("bad_symbols"), code="bad_symbols")
    if len(text) < CODE_LENGTH:
        raise CodeRejected(_msg("too_short"), code="too_short")
    if len(text) > CODE_LENGTH:
        raise CodeRejected(_msg("too_long"), code="too_long")
    candidates = [c for c in _readings(text, options) if is_well_formed(c)]
    if not candidates:
        raise CodeRejected(_msg("bad_check_symbol"), code="bad_check_symbol")
    return Reading(text=text, candidates=candidates)


def _readings(text: str, options: list[tuple[str, ...]]) -> list[str]:
    """The readings worth checking, best first.

    One reading per way of typing, so the check symbol keeps its promise:
    a letter only the layout explains (Ф, И, Я...) means the layout was on;
    a Latin letter means look-alikes; only when every letter could be either
    are both readings tried (layout first).
    """
    layout = "".join(o[-1] for o in options)
    lookalike = "".join(o[0] for o in options)
    if any(char in LAYOUT and char not in LOOKALIKE for char in text):
        return [layout]
    if any(char in ALPHABET and char.isalpha() for char in text) or any(char in CROCKFORD for char in text):
        return [lookalike]
    return list(dict.fromkeys([layout, lookalike]))


def _msg(reason: str) -> str:
    return {
        "empty": _("Type the code printed on the package."),
        "bad_symbols": _("The code contains characters that are not used in codes."),
        "too_short": _("The code is too short: it has 13 characters."),
        "too_long": _("The code is too long: it has 13 characters."),
        "bad_check_symbol": _("There is a typo in the code: please check every character."),
        "not_a_club_link": _("This link is not a Partner Club code."),
    }[reason]
