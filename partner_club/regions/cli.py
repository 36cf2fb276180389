import click
from flask.cli import AppGroup

regions = AppGroup("regions", help="Regions and their shapes.")
