"""`flask users create`: the first admin, and accounts for scripts."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from partner_club.accounts.models import Role
from partner_club.accounts.services import (
    block_user,
    create_user,
    find_by_login,
    set_new_password,
    unblock_user,
)
from partner_club.errors import DomainError
from partner_club.extensions import db
from partner_club.outlets.models import Outlet

users = AppGroup("users", help="People and their roles.")


@users.command("create")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--login", required=True, help="Phone number or e-mail.")
@click.option("--password", required=True)
@click.option("--outlet", "outlet_external_id", help="External id of the shop (owners and sellers).")
@click.option("--name", default="", help="Full name.")
def create(role: str, login: str, password: str, outlet_external_id: str | None, name: str) -> None:
    """Create an account."""
    outlet = None
    if outlet_external_id:
        outlet = db.session.scalar(select(Outlet).where(Outlet.external_id == outlet_external_id))
        if outlet is None:
            raise click.ClickException(f"No shop with external id {outlet_external_id!r}.")
    elif role in (Role.OWNER.value, Role.SELLER.value):
        raise click.ClickException("Owners and sellers need --outlet EXTERNAL_ID.")
    try:
        user = create_user(
            db.session, role=role, login=login, password=password, full_name=name, outlet=outlet
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.login} (id {user.id}).")


def _person(login: str):
    user = find_by_login(db.session, login)
    if user is None:
        raise click.ClickException(f"No account with login {login!r}.")
    return user


@users.command("block")
@click.argument("login")
@click.option("--reason", required=True, help="Shown to the person when they try to sign in.")
def block(login: str, reason: str) -> None:
    """Block an account: no sign-in, every token dies."""
    user = _person(login)
    try:
        block_user(db.session, user, reason=reason, actor=None)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"Blocked {user.login}.")


@users.command("unblock")
@click.argument("login")
def unblock(login: str) -> None:
    """Lift a block."""
    user = _person(login)
    unblock_user(db.session, user, actor=None)
    db.session.commit()
    click.echo(f"Unblocked {user.login}.")


@users.command("set-password")
@click.argument("login")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def set_password(login: str, password: str) -> None:
    """Give a person a new password (no e-mail to reset it by): every session of theirs ends."""
    user = _person(login)
    try:
        set_new_password(db.session, user, password, actor=None)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"New password set for {user.login}; their sessions and API tokens are signed out.")
