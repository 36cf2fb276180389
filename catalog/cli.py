import click
from flask.cli import AppGroup

catalog = AppGroup("catalog", help="Prize catalog.")
