"""The code scheme: round trips, randomness, the check symbol, normalisation."""

from __future__ import annotations

import io
import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codes.normalize import CROCKFORD, LAYOUT, LOOKALIKE, CodeRejected, read
from codes.scheme import (
    ALPHABET,
    CODE_LENGTH,
    MAX_BATCH,
    MAX_SERIAL,
    CodeScheme,
    check_symbol,
    display,
    is_well_formed,
    parse_keys,
    write_csv,
)

SCHEME = CodeScheme(parse_keys("1:" + "a1" * 32 + ",2:" + "b2" * 16))
batches = st.integers(min_value=1, max_value=MAX_BATCH)
serials = st.integers(min_value=1, max_value=MAX_SERIAL)
versions = st.sampled_from([1, 2])
LATIN_TO_LAYOUT = {latin: cyrillic for cyrillic, latin in LAYOUT.items()}


@given(batches, serials, versions)
def test_every_code_decodes_to_its_batch_and_serial(batch, serial, version):
    code = SCHEME.encode(batch, serial, version)
    assert len(code) == CODE_LENGTH and is_well_formed(code)
    readings = {(r.key_version, r.batch, r.serial) for r in SCHEME.decode(code)}
    assert (version, batch, serial) in readings


@given(batches, st.integers(min_value=1, max_value=10**9), versions)
@settings(max_examples=30)
def test_bulk_generation_matches_single_codes(batch, first, version):
    serial_array = np.arange(first, first + 50, dtype=np.uint64)
    bulk = SCHEME.symbols_many(version, batch, serial_array)
    for row, serial in zip(bulk, range(first, first + 50), strict=False):
        assert row.tobytes().decode() == SCHEME.encode(batch, serial, version)


@given(batches, st.integers(min_value=1, max_value=10**6))
@settings(max_examples=25)
def test_consecutive_serials_share_no_visible_structure(batch, first):
    codes = [SCHEME.encode(batch, s) for s in range(first, first + 64)]
    assert len(set(codes)) == 64
    # per position, consecutive codes agree only by chance (1/32 each)
    same = sum(a[i] == b[i] for a, b in itertools.pairwise(codes) for i in range(12))
    assert same < 63 * 12 / 32 * 3
    # no common prefix: the first symbol takes many values over 64 codes
    assert len({c[0] for c in codes}) > 12
    # every bit position of the 60-bit values flips about half the time
    values = np.array(
        [int("".join(f"{ALPHABET.index(ch):05b}" for ch in c[:12]), 2) for c in codes], dtype=np.uint64
    )
    ones = [(int(((values >> np.uint64(bit)) & np.uint64(1)).sum())) for bit in range(60)]
    assert all(8 <= count <= 56 for count in ones)


def test_check_symbol_catches_every_single_error_and_every_swap():
    rng = random.Random(4)
    for _ in range(300):
        code = SCHEME.encode(rng.randint(1, MAX_BATCH), rng.randint(1, MAX_SERIAL))
        for position in range(CODE_LENGTH):
            for symbol in ALPHABET:
                if symbol != code[position]:
                    wrong = code[:position] + symbol + code[position + 1 :]
                    assert not is_well_formed(wrong), (code, wrong)
        for i in range(CODE_LENGTH):
            for j in range(i + 1, CODE_LENGTH):
                if code[i] != code[j]:
                    swapped = list(code)
                    swapped[i], swapped[j] = swapped[j], swapped[i]
                    assert not is_well_formed("".join(swapped)), (code, i, j)


def test_check_symbol_of_all_zero_data_is_zero():
    assert check_symbol("0" * 12) == "0"


def _as_layout(code: str) -> str:
    return "".join(LATIN_TO_LAYOUT.get(ch, ch) for ch in code)


def _as_lookalikes(code: str) -> str:
    latin_to_cyr = {latin: cyr for cyr, latin in LOOKALIKE.items() if latin in ALPHABET}
    return "".join(latin_to_cyr.get(ch, ch) for ch in code)


@given(
    batches,
    serials,
    st.sampled_from(
        ["upper", "lower", "dashes", "spaces", "layout", "layout_lower", "lookalike", "crockford"]
    ),
)
def test_normalisation_round_trips(batch, serial, style):
    code = SCHEME.encode(batch, serial)
    typed = {
        "upper": code,
        "lower": code.lower(),
        "dashes": display(code),
        "spaces": " ".join([code[:4], code[4:8], code[8:]]) + " ",
        "layout": _as_layout(code),
        "layout_lower": _as_layout(code).lower(),
        "lookalike": _as_lookalikes(code),
        "crockford": code.replace("0", "O").replace("1", "l"),
    }[style]
    assert code in read(typed).candidates


@given(batches, serials)
def test_a_wrong_reading_never_decrypts_to_an_issued_code_of_the_batch(batch, serial):
    code = SCHEME.encode(batch, serial)
    for candidate in read(_as_layout(code)).candidates:
        if candidate != code:
            assert all(r.batch != batch for r in SCHEME.decode(candidate))


def test_crockford_lookalikes_read_as_digits():
    assert CROCKFORD == {"O": "0", "I": "1", "L": "1"}


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "empty"),
        ("ABC", "too_short"),
        ("ABCDEFGHJKMNPQ", "too_long"),
        ("ABCD-EFGH-JKM!N", "bad_symbols"),
        ("UUUUUUUUUUUUU", "bad_symbols"),
        ("https://evil.example/c/ABCDEFGHJKMNP", "not_a_club_link"),
    ],
)
def test_bad_input_has_its_own_reason(app, typed, reason):
    with app.test_request_context(), pytest.raises(CodeRejected) as error:
        read(typed, "http://club.test")
    assert error.value.code == reason


def test_a_typo_is_a_bad_check_symbol(app):
    code = SCHEME.encode(7, 99)
    wrong = code[:3] + ("0" if code[3] != "0" else "1") + code[4:]
    with app.test_request_context(), pytest.raises(CodeRejected) as error:
        read(wrong)
    assert error.value.code == "bad_check_symbol"


def test_a_club_link_reads_as_its_code():
    code = SCHEME.encode(7, 99)
    assert code in read(f"http://club.test/c/{code}?utm=x", "http://club.test").candidates


def test_csv_streams_every_serial_with_its_code_and_link():
    out = io.BytesIO()
    count = write_csv(out, SCHEME, 1, 42, 1, 1234, "http://club.test/c/")
    lines = out.getvalue().decode().splitlines()
    assert count == 1234 and lines[0] == "serial,code,display,url" and len(lines) == 1235
    for line in (lines[1], lines[9], lines[10], lines[100], lines[1000], lines[-1]):
        serial, code, shown, url = line.split(",")
        assert code == SCHEME.encode(42, int(serial), 1)
        assert shown == display(code) and url == "http://club.test/c/" + code


def test_keys_must_be_aes_keys():
    with pytest.raises(ValueError):
        parse_keys("1:abcd")


@given(batches, serials, st.sampled_from(["layout", "lookalike"]))
@settings(max_examples=200)
def test_swaps_are_caught_in_russian_text_too(batch, serial, style):
    """One reading per way of typing: the check symbol's promise holds for Cyrillic input."""
    code = SCHEME.encode(batch, serial)
    typed = _as_layout(code) if style == "layout" else _as_lookalikes(code)
    one_reading = any(ch in LAYOUT and ch not in LOOKALIKE for ch in typed) or any(
        ch.isascii() and ch.isalpha() for ch in typed
    )
    for i in range(len(typed) - 1):
        if typed[i] == typed[i + 1]:
            continue
        swapped = typed[:i] + typed[i + 1] + typed[i] + typed[i + 2 :]
        try:
            candidates = read(swapped).candidates
        except CodeRejected as error:
            assert error.code == "bad_check_symbol"
            continue
        assert not one_reading, (typed, swapped)
        # only an all-ambiguous text is read two ways; the other reading may pass the check,
        # and then it decrypts to a batch that does not exist
        assert code not in candidates
        assert all(r.batch != batch for c in candidates for r in SCHEME.decode(c))
