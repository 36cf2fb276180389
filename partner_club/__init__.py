"""Partner Club: the loyalty club for the shops that sell the brand's products.

`flask --app partner_club` finds `create_app` here. The factory imports every
domain package, so it is loaded only when asked for: importing a piece of the
core (`partner_club.signals`, `partner_club.ledger`) loads no domain package.
"""

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from partner_club.app import create_app

        return create_app
    raise AttributeError(name)
