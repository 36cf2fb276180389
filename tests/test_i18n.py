"""Every text a person sees exists in Russian as well as English."""

from __future__ import annotations

import pytest

from partner_club.config import PACKAGES
from partner_club.i18n import untranslated


@pytest.mark.parametrize("package", PACKAGES)
def test_every_message_has_a_russian_translation(package):
    missing = untranslated(package)
    assert missing == [], f"{package}: run tools/translate.py {package} FILE.json for: {missing[:20]}"
