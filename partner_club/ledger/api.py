from partner_club.api.base import ApiBlueprint
from partner_club.extensions import csrf

bp = ApiBlueprint("ledger_api", __name__)
csrf.exempt(bp)
