"""Builds partner_club/static/icons/sprite.svg from an unpacked lucide-static package.

    npm pack lucide-static && tar xzf lucide-static-*.tgz
    python tools/build_icons.py package/icons

Only the icons the club uses are kept (ICONS); each becomes a <symbol id="i-NAME">.
Lucide is ISC-licensed: its licence sits beside the sprite (LICENSE-lucide.txt).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ICONS = [
    "house",
    "qr-code",
    "scan-line",
    "coins",
    "gift",
    "list",
    "shopping-cart",
    "users",
    "store",
    "map",
    "chart-column",
    "shield-alert",
    "settings",
    "package",
    "file-text",
    "log-out",
    "menu",
    "circle-check",
    "triangle-alert",
    "x",
    "clock",
    "target",
    "mail",
    "history",
    "user",
    "chevron-right",
    "receipt",
    "landmark",
    "calendar",
    "ban",
    "undo-2",
    "printer",
    "camera",
    "plus",
    "briefcase",
]
OUT = Path(__file__).resolve().parent.parent / "partner_club" / "static" / "icons" / "sprite.svg"


def symbol(name: str, svg: str) -> str:
    body = re.search(r">\s*(.*)</svg>", re.sub(r"<!--.*?-->", "", svg, flags=re.S), re.S).group(1)
    body = re.sub(r"\s*\n\s*", "", body)
    return f'<symbol id="i-{name}" viewBox="0 0 24 24">{body}</symbol>'


def main(source: str) -> None:
    folder = Path(source)
    symbols = "".join(symbol(name, (folder / f"{name}.svg").read_text()) for name in ICONS)
    OUT.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" fill="none" stroke="currentColor" stroke-width="2" '
        'stroke-linecap="round" stroke-linejoin="round">' + symbols + "</svg>\n"
    )


if __name__ == "__main__":
    main(sys.argv[1])
