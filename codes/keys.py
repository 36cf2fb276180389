"""Code keys: versions, fingerprints, rotation and the proof that they still decode.

A code carries no key version; its batch does (`Batch.key_version`). Losing
a key makes every code of its batches unverifiable, and a wrong key looks
just like a lost one: every code becomes "unknown". So each key version's
fingerprint (an HMAC of a fixed text under the key, which tells nothing
about the key) is kept in the settings table when the version first signs a
batch, and `check` compares the configured keys with it before decoding a
sample of every batch.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from codes.models import Batch
from codes.scheme import CodeScheme, parse_keys
from partner_club.settings_store import get_setting, put_setting

FINGERPRINTS = "codes.key_fingerprints"
SAMPLE = 16  # codes decoded per batch


def fingerprint(key: bytes) -> str:
    return hmac.new(key, b"partner-club code key check", hashlib.sha256).hexdigest()[:16]


def remember_fingerprint(session: Session, scheme: CodeScheme, version: int) -> None:
    """Keeps the fingerprint of `version` the first time it is seen (a batch, a rotation)."""
    known = dict(get_setting(session, FINGERPRINTS, {}))
    if str(version) not in known and version in scheme.keys:
        known[str(version)] = fingerprint(scheme.keys[version])
        put_setting(session, FINGERPRINTS, known)


def new_key_pair(setting: str) -> tuple[int, str]:
    """The next version and a random AES-256 key for it, as (version, hexkey)."""
    return max(parse_keys(setting)) + 1, secrets.token_hex(32)


def append_to_file(path: Path, version: int, hexkey: str) -> None:
    """Adds a version to the instance folder's key file (kept at mode 0600)."""
    with path.open("a", encoding="ascii") as out:
        out.write(f"{version}:{hexkey}\n")
    path.chmod(0o600)


@dataclass(frozen=True)
class BatchCheck:
    number: int
    key_version: int
    problem: str | None  # None: every sampled code decoded to its batch and serial


def sample_serials(count: int, size: int = SAMPLE) -> list[int]:
    """The first and last serials and an even spread between them."""
    if count <= size:
        return list(range(1, count + 1))
    step = (count - 1) / (size - 1)
    return sorted({1 + round(step * i) for i in range(size)})


def check_batches(session: Session, scheme: CodeScheme) -> list[BatchCheck]:
    """Proves the configured keys still decode every batch: the key version is configured,
    its fingerprint matches the one kept when it first signed a batch, and a sample of
    codes encodes and decodes back to (batch, serial). Versions with no fingerprint yet
    (batches issued before fingerprints were kept) get the configured key's."""
    known = dict(get_setting(session, FINGERPRINTS, {}))
    results = []
    for number, version, count in session.execute(
        select(Batch.number, Batch.key_version, Batch.count).order_by(Batch.number)
    ):
        results.append(BatchCheck(number, version, _problem(scheme, known, number, version, count)))
    learned = {
        str(v): fingerprint(k) for v, k in scheme.keys.items() if str(v) not in known and _used(results, v)
    }
    if learned:
        put_setting(session, FINGERPRINTS, {**known, **learned})
    return results


def _used(results: list[BatchCheck], version: int) -> bool:
    return any(r.key_version == version for r in results)


def _problem(scheme: CodeScheme, known: dict[str, str], number: int, version: int, count: int) -> str | None:
    if version not in scheme.keys:
        return f"key version {version} is not configured"
    expected = known.get(str(version))
    if expected is not None and not hmac.compare_digest(expected, fingerprint(scheme.keys[version])):
        return f"key version {version} is not the key this batch was issued with"
    for serial in sample_serials(count):
        readings = scheme.decode(scheme.encode(number, serial, version))
        if not any(r.key_version == version and (r.batch, r.serial) == (number, serial) for r in readings):
            return f"serial {serial} does not decode back"
    return None
