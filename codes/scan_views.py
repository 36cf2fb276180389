from flask import Blueprint

bp = Blueprint("scanner", __name__, url_prefix="/scan")
bp.nav = []
