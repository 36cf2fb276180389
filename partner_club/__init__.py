"""Partner Club: the loyalty club for the shops that sell the brand's products."""
from partner_club.app import create_app

__all__ = ["create_app"]
