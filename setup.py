"""The build compiles the Russian catalogs, so a wheel carries the .mo files Flask-Babel reads.

The metadata lives in setup.cfg; this file only adds that step to `build_py`: every
`translations/*/LC_MESSAGES/*.po` copied into the build gets its `.mo` beside it. A checkout
compiles them with `flask --app partner_club i18n compile` instead (`make install` does).
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithCatalogs(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's catalogs
        for po in sorted(Path(self.build_lib).glob("*/translations/*/LC_MESSAGES/*.po")):
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name)
            with po.with_suffix(".mo").open("wb") as target:
                write_mo(target, catalog)


setup(cmdclass={"build_py": BuildPyWithCatalogs})
