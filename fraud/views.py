from flask import Blueprint

bp = Blueprint("fraud", __name__, url_prefix="/fraud")
bp.nav = []
