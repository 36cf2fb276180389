"""Fill Russian translations of one package, safely beside other writers.

    .venv/bin/python tools/translate.py PACKAGE FILE.json

FILE.json maps English msgids to Russian texts. The script extracts the
package's strings (`i18n update`), fills the texts, compiles, and prints
what still lacks Russian. A lock file keeps two runs from interleaving.
"""

from __future__ import annotations

import fcntl
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from babel.messages.pofile import write_po

from partner_club.i18n import compile_catalog, po_path, read_catalog, untranslated, update


def main(package: str, source: str) -> int:
    texts = json.loads(Path(source).read_text(encoding="utf-8")) if source != "-" else {}
    with open("/tmp/partner_club_i18n.lock", "w") as lock:  # noqa: S108 - a lock between local runs
        fcntl.flock(lock, fcntl.LOCK_EX)
        update(package)
        catalog = read_catalog(package)
        unknown = []
        for msgid, text in texts.items():
            message = catalog.get(msgid)
            if message is None:
                unknown.append(msgid)
                continue
            message.string = text
            message.flags.discard("fuzzy")
        with po_path(package).open("wb") as handle:
            write_po(handle, catalog, width=100, ignore_obsolete=True)
        compile_catalog(package)
    for msgid in unknown:
        print(f"not in the sources (skipped): {msgid}")
    missing = untranslated(package)
    for msgid in missing:
        print(f"needs Russian: {msgid}")
    print(f"{package}: {len(missing)} without Russian")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "-"))
