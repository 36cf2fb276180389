"""The code scheme: (batch number, serial) <-> 13 Crockford base-32 symbols.

A code is not stored anywhere. It is computed from the pair
(batch number, serial) and decrypted back to it:

* Packing. The batch number takes the high 24 bits and the serial the low 36
  bits of a 60-bit value: 16.7 million batches of up to 68.7 billion codes.
* Permutation. The 60-bit value goes through a 10-round balanced Feistel
  network over two 30-bit halves (FF1's shape over a binary domain, XOR as
  the group operation). The round function is AES with the batch's key over
  a block holding a domain tag, the round number and the right half; its
  first 30 bits are the round output. Without the key the output is
  indistinguishable from a random permutation of the 2^60 values, so codes
  of one batch share no visible structure and knowing genuine codes does not
  help forge another one. A guess is valid with probability issued / 2^60.
* Writing. The 60 bits become 12 Crockford base-32 symbols, most significant
  first, plus one check symbol (below). The display form groups them as
  XXXX-XXXX-XXXXX.

Keys come from the CODE_KEYS setting ("version:hexkey,..."). Every batch
records the key version it was issued under; a code carries no version, so
decoding tries every configured key and the batch table says which reading
is real (a wrong key gives a random batch number that does not exist).

The check symbol: let d0..d11 be the symbol values and c the check symbol,
all read as elements of GF(32) (polynomial basis, modulus x^5 + x^2 + 1).
With weights w_i = a^(i+1) for i = 0..11 and weight 1 = a^0 for the check
symbol (a a primitive element, so all 13 weights are distinct and non-zero),
a code is valid when  w_0 d_0 + ... + w_11 d_11 + c = 0  in GF(32).

* One wrong symbol at position i changes the sum by w_i * e, with e != 0 the
  difference of the two symbols; a field has no zero divisors, so the sum
  is no longer 0.
* Swapping two different symbols x != y at positions i and j changes the sum
  by (w_i + w_j)(x + y); both factors are non-zero because the weights are
  distinct, so every swap is caught, adjacent or not, including a swap with
  the check symbol.

`tests/codes/test_scheme.py` checks both claims exhaustively on samples.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BATCH_BITS = 24
SERIAL_BITS = 36
HALF_BITS = 30
DOMAIN_BITS = BATCH_BITS + SERIAL_BITS
MAX_BATCH = (1 << BATCH_BITS) - 1
MAX_SERIAL = (1 << SERIAL_BITS) - 1
ROUNDS = 10
DATA_SYMBOLS = 12
CODE_LENGTH = DATA_SYMBOLS + 1
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_HALF_MASK = (1 << HALF_BITS) - 1
_TAG = b"PCcode60"  # domain separation inside the AES block

VALUE = {symbol: index for index, symbol in enumerate(ALPHABET)}


# --- GF(32) arithmetic for the check symbol ---------------------------------


def _gf_mul(a: int, b: int) -> int:
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a & 0x20:
            a ^= 0b100101  # x^5 + x^2 + 1
    return product


def _weights() -> tuple[int, ...]:
    alpha, power, weights = 2, 1, []
    for _ in range(DATA_SYMBOLS):
        power = _gf_mul(power, alpha)
        weights.append(power)
    return tuple(weights)


WEIGHTS = _weights()
# _MUL[i, v] = w_i * v in GF(32): the check symbol is the XOR of a row lookup per position.
_MUL = np.array([[_gf_mul(w, v) for v in range(32)] for w in WEIGHTS], dtype=np.uint8)


def check_value(values: Iterable[int]) -> int:
    total = 0
    for position, value in enumerate(values):
        total ^= int(_MUL[position, value])
    return total


def check_symbol(data: str) -> str:
    """The check symbol of 12 data symbols (already normalised)."""
    return ALPHABET[check_value(VALUE[s] for s in data)]


def is_well_formed(code: str) -> bool:
    """13 alphabet symbols whose check symbol agrees."""
    if len(code) != CODE_LENGTH or any(s not in VALUE for s in code):
        return False
    return check_symbol(code[:DATA_SYMBOLS]) == code[DATA_SYMBOLS]


def display(code: str) -> str:
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


# --- keys ---------------------------------------------------------------------


def parse_keys(setting: str) -> dict[int, bytes]:
    """ "1:hex,2:hex" -> {1: key, 2: key}; AES-128/192/256 keys."""
    keys: dict[int, bytes] = {}
    for part in setting.replace(" ", "").split(","):
        if not part:
            continue
        version, _, hexkey = part.partition(":")
        key = bytes.fromhex(hexkey)
        if len(key) not in (16, 24, 32):
            raise ValueError(f"code key {version}: AES keys are 16, 24 or 32 bytes")
        keys[int(version)] = key
    if not keys:
        raise ValueError("CODE_KEYS holds no key")
    return keys


@dataclass(frozen=True)
class Decoded:
    key_version: int
    batch: int
    serial: int


class CodeScheme:
    """Encrypts and decrypts codes with a set of versioned keys."""

    def __init__(self, keys: dict[int, bytes]) -> None:
        self.keys = dict(keys)
        self.current_version = max(self.keys)
        self._encryptors = {
            v: Cipher(algorithms.AES(k), modes.ECB()).encryptor() for v, k in self.keys.items()
        }

    # -- one value at a time (registration) --
    def _round(self, version: int, number: int, half: int) -> int:
        block = _TAG + bytes((number, 0, 0, 0)) + half.to_bytes(4, "big")
        out = self._encryptors[version].update(block)
        return int.from_bytes(out[:4], "big") & _HALF_MASK

    def encrypt(self, version: int, value: int) -> int:
        left, right = value >> HALF_BITS, value & _HALF_MASK
        for number in range(ROUNDS):
            left, right = right, left ^ self._round(version, number, right)
        return (left << HALF_BITS) | right

    def decrypt(self, version: int, value: int) -> int:
        left, right = value >> HALF_BITS, value & _HALF_MASK
        for number in reversed(range(ROUNDS)):
            left, right = right ^ self._round(version, number, left), left
        return (left << HALF_BITS) | right

    def encode(self, batch: int, serial: int, version: int | None = None) -> str:
        version = self.current_version if version is None else version
        value = self.encrypt(version, pack(batch, serial))
        data = "".join(ALPHABET[(value >> (5 * (DATA_SYMBOLS - 1 - i))) & 31] for i in range(DATA_SYMBOLS))
        return data + check_symbol(data)

    def decode(self, code: str) -> list[Decoded]:
        """Every (key version, batch, serial) reading of a well-formed code."""
        if not is_well_formed(code):
            return []
        value = 0
        for symbol in code[:DATA_SYMBOLS]:
            value = (value << 5) | VALUE[symbol]
        readings = []
        for version in sorted(self.keys, reverse=True):
            batch, serial = unpack(self.decrypt(version, value))
            readings.append(Decoded(version, batch, serial))
        return readings

    # -- many values at once (printing) --
    def encrypt_many(self, version: int, values: np.ndarray) -> np.ndarray:
        """The Feistel network over a uint64 array: one AES-ECB call per round."""
        count = len(values)
        left = (values >> np.uint64(HALF_BITS)).astype(np.uint32)
        right = (values & np.uint64(_HALF_MASK)).astype(np.uint32)
        blocks = np.zeros((count, 16), dtype=np.uint8)
        blocks[:, :8] = np.frombuffer(_TAG, dtype=np.uint8)
        encryptor = self._encryptors[version]
        for number in range(ROUNDS):
            blocks[:, 8] = number
            blocks[:, 12:16] = right.astype(">u4").view(np.uint8).reshape(count, 4)
            out = np.frombuffer(encryptor.update(blocks.tobytes()), dtype=np.uint8)
            f = out.reshape(count, 16)[:, :4].copy().view(">u4").reshape(count).astype(np.uint32)
            left, right = right, left ^ (f & np.uint32(_HALF_MASK))
        return (left.astype(np.uint64) << np.uint64(HALF_BITS)) | right.astype(np.uint64)

    def symbols_many(self, version: int, batch: int, serials: np.ndarray) -> np.ndarray:
        """ASCII codes as a (n, 13) uint8 array for an array of serials."""
        values = (np.uint64(batch) << np.uint64(SERIAL_BITS)) | serials.astype(np.uint64)
        encrypted = self.encrypt_many(version, values)
        digits = np.empty((len(serials), CODE_LENGTH), dtype=np.uint8)
        check = np.zeros(len(serials), dtype=np.uint8)
        for i in range(DATA_SYMBOLS):
            shift = np.uint64(5 * (DATA_SYMBOLS - 1 - i))
            column = ((encrypted >> shift) & np.uint64(31)).astype(np.uint8)
            digits[:, i] = column
            check ^= _MUL[i][column]
        digits[:, DATA_SYMBOLS] = check
        return _ASCII[digits]


_ASCII = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)


def pack(batch: int, serial: int) -> int:
    if not 0 <= batch <= MAX_BATCH or not 0 <= serial <= MAX_SERIAL:
        raise ValueError("batch or serial out of the scheme's range")
    return (batch << SERIAL_BITS) | serial


def unpack(value: int) -> tuple[int, int]:
    return value >> SERIAL_BITS, value & MAX_SERIAL


@functools.lru_cache(maxsize=8)
def scheme_from_setting(setting: str) -> CodeScheme:
    return CodeScheme(parse_keys(setting))


# --- print files ----------------------------------------------------------------

CSV_HEADER = b"serial,code,display,url\n"


def csv_chunks(
    scheme: CodeScheme,
    version: int,
    batch: int,
    first: int,
    last: int,
    url_prefix: str,
    *,
    chunk: int = 1 << 18,
) -> Iterator[tuple[int, bytes]]:
    """CSV lines `serial,code,display,url` for serials first..last, in big byte chunks.

    Yields (serials done so far, bytes). Lines are assembled as fixed-width
    uint8 rows per run of serials with the same number of digits, so no
    Python work happens per code.
    """
    prefix = np.frombuffer(url_prefix.encode(), dtype=np.uint8)
    start = first
    while start <= last:
        stop = min(last, start + chunk - 1)
        # split where the serial gains a digit, so every row has one width
        digits = len(str(start))
        stop = min(stop, 10**digits - 1)
        yield stop - first + 1, _csv_rows(scheme, version, batch, start, stop, digits, prefix)
        start = stop + 1


def _csv_rows(
    scheme: CodeScheme, version: int, batch: int, start: int, stop: int, digits: int, prefix: np.ndarray
) -> bytes:
    serials = np.arange(start, stop + 1, dtype=np.uint64)
    count = len(serials)
    codes = scheme.symbols_many(version, batch, serials)
    width = digits + 1 + 13 + 1 + 15 + 1 + len(prefix) + 13 + 1
    rows = np.empty((count, width), dtype=np.uint8)
    column = 0
    rest = serials.copy()
    for position in reversed(range(digits)):
        rows[:, position] = (rest % np.uint64(10)).astype(np.uint8) + ord("0")
        rest //= np.uint64(10)
    column = digits
    rows[:, column] = ord(",")
    rows[:, column + 1 : column + 14] = codes
    column += 14
    rows[:, column] = ord(",")
    column += 1
    for start_at, end_at in ((0, 4), (4, 8), (8, 13)):
        rows[:, column : column + end_at - start_at] = codes[:, start_at:end_at]
        column += end_at - start_at
        if end_at != 13:
            rows[:, column] = ord("-")
            column += 1
    rows[:, column] = ord(",")
    column += 1
    rows[:, column : column + len(prefix)] = prefix
    column += len(prefix)
    rows[:, column : column + 13] = codes
    rows[:, column + 13] = ord("\n")
    return rows.tobytes()


def write_csv(
    out,
    scheme: CodeScheme,
    version: int,
    batch: int,
    first: int,
    last: int,
    url_prefix: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Streams the CSV of a serial range into a binary file object; returns the count."""
    out.write(CSV_HEADER)
    done = 0
    for done, data in csv_chunks(scheme, version, batch, first, last, url_prefix):
        out.write(data)
        if progress:
            progress(done)
    return done
