import click
from flask.cli import AppGroup

outlets = AppGroup("outlets", help="Outlets (shops).")
