"""`flask catalog ...`: provider goods, retrying gift-card orders, CSV upload."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from catalog.fulfilment import orders_waiting_for_providers, submit_to_providers
from catalog.prizes import import_prizes
from catalog.providers import PROVIDERS, ProviderError, get_provider
from partner_club.extensions import db

catalog = AppGroup("catalog", help="Prize catalog.")


@catalog.command("goods")
@click.option("--provider", "name", default="giftcard_http", type=click.Choice(sorted(PROVIDERS)))
def goods(name: str) -> None:
    """List what a provider offers (sku, name, price, available)."""
    try:
        items = get_provider(name, current_app.config).list_goods()
    except ProviderError as error:
        raise click.ClickException(error.message) from None
    for item in items:
        click.echo(
            f"{item.sku}\t{item.name}\t{item.price_rub or ''}\t{item.available if item.available is not None else ''}"
        )


@catalog.command("retry")
def retry() -> None:
    """Ask the gift-card providers again about orders they have not answered (run it from cron)."""
    order_ids = orders_waiting_for_providers(db.session)
    for order_id in order_ids:
        status = submit_to_providers(db.session, order_id, current_app.config)
        db.session.commit()
        click.echo(f"order {order_id}: {status}")
    click.echo(f"{len(order_ids)} orders asked again")


@catalog.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--pictures",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="ZIP archive with the pictures named in the CSV's picture column",
)
def import_command(csv_file: Path, pictures: Path | None) -> None:
    """Create or update prizes from a CSV (the same columns as the upload page)."""
    result = import_prizes(
        db.session,
        csv_file.read_text(encoding="utf-8-sig"),
        pictures.read_bytes() if pictures else None,
        actor=None,
    )
    if result.errors:
        db.session.rollback()
        for error in result.errors:
            click.echo(error, err=True)
        raise click.ClickException("nothing imported")
    db.session.commit()
    click.echo(f"{result.created} created, {result.updated} updated")
