from flask import Blueprint

import fraud.hooks  # noqa: F401 - connects fraud to the registration signals
from fraud import models  # noqa: F401 - registers the fraud tables

bp = Blueprint("fraud", __name__, url_prefix="/fraud")
bp.nav = []
