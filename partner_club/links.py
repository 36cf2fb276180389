"""Whether a link some person gave stays on the club's own site."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Browsers read "\" as "/" and drop tabs and newlines: "/\evil.example" and "/<TAB>/evil.example"
# lead to another site like "//evil.example" does.
_NOT_IN_A_PATH = re.compile(r"[\\\x00-\x20\x7f]")


def is_local_path(value: str | None) -> bool:
    """A path on this site ("/points/?page=2"), never another site's address in disguise."""
    if not value or not value.startswith("/") or value.startswith("//") or _NOT_IN_A_PATH.search(value):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc
