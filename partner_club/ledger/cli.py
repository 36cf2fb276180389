import click
from flask.cli import AppGroup

points = AppGroup("points", help="Points ledger.")
