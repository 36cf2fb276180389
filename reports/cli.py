import click
from flask.cli import AppGroup

reports = AppGroup("reports", help="KPI reports.")
