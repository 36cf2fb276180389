import click
from flask.cli import AppGroup

fraud = AppGroup("fraud", help="Fraud detection: replay and review.")
