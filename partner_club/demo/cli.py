"""`flask demo seed`: the demo world in an empty database."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from partner_club.accounts.models import User
from partner_club.demo.seed import DEFAULT_SEED, DEFAULT_SHOPS, seed_demo
from partner_club.extensions import db

demo = AppGroup("demo", help="The demo world.")


@demo.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
@click.option(
    "--seed",
    "rng_seed",
    type=int,
    default=DEFAULT_SEED,
    show_default=True,
    help="Random seed: the same seed builds the same world.",
)
@click.option("--shops", type=click.IntRange(min=10), default=DEFAULT_SHOPS, show_default=True)
def seed_command(if_empty: bool, rng_seed: int, shops: int) -> None:
    """Load the demo world: regions, reps, shops, people, then every package's demo data."""
    if db.session.scalar(select(func.count(User.id))):
        if if_empty:
            click.echo("The database already has users: demo seed skipped.")
            return
        raise click.ClickException(
            "The database already has users; the demo world needs an empty one (or use --if-empty to skip)."
        )
    started = time.perf_counter()
    try:
        world = seed_demo(
            db.session, current_app.extensions["partner_club.demo_seeders"], rng_seed=rng_seed, shops=shops
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(
        f"Demo world: {len(world.regions)} regions, {len(world.reps)} reps, "
        f"{len(world.outlets)} shops, {len(world.owners)} owners, {len(world.sellers)} sellers "
        f"({time.perf_counter() - started:.1f} s)."
    )
    for note in world.notes:
        click.echo(note)
    click.echo(f"Sign in at {current_app.config['PUBLIC_URL']}/login as:")
    width = max(len(role) for role in world.logins)
    for role, (login, password) in world.logins.items():
        click.echo(f"  {role:<{width}}  {login:<36}  {password}")
