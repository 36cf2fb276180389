from flask import Blueprint

bp = Blueprint("ledger", __name__, url_prefix="/points")
bp.nav = []
