from flask import Blueprint

bp = Blueprint("codes", __name__, url_prefix="")
bp.nav = []
