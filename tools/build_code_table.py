"""Write (or check) the browser's code-reading tables from codes/normalize.py.

.venv/bin/python tools/build_code_table.py           # writes partner_club/static/js/codes/table.js
.venv/bin/python tools/build_code_table.py --check   # exit 1 when the committed file is stale
"""

from __future__ import annotations

import argparse
import sys

from codes.browser_table import TABLE_PATH, render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    fresh = render()
    current = TABLE_PATH.read_text(encoding="utf-8") if TABLE_PATH.exists() else ""
    if args.check:
        if current != fresh:
            print(f"{TABLE_PATH} is out of date: run tools/build_code_table.py")
            return 1
        print(f"{TABLE_PATH} is up to date")
        return 0
    TABLE_PATH.parent.mkdir(parents=True, exist_ok=True)
    TABLE_PATH.write_text(fresh, encoding="utf-8")
    print(f"wrote {TABLE_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
