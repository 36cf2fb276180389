from partner_club.api.base import ApiBlueprint
from partner_club.extensions import csrf

bp = ApiBlueprint("scans_api", __name__)
csrf.exempt(bp)
