"""`flask products ...` and `flask codes ...`."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from codes import issuing, keys, services
from codes.models import BatchStatus, Product
from codes.scheme import scheme_from_setting, write_csv
from partner_club.errors import DomainError
from partner_club.extensions import db
from partner_club.regions.models import Region

products = AppGroup("products", help="Products (SKUs) and their points rules.")
codes = AppGroup("codes", help="Batches of package codes.")


@products.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
def import_products(file) -> None:
    """Load sku,name,kind,package,volume_m3,points (points: N per package or N/m3)."""
    report = issuing.import_products(db.session, file.read())
    if report.errors:
        db.session.rollback()
        for line, message in report.errors:
            click.echo(f"line {line}: {message}", err=True)
        click.echo(f"{len(report.errors)} bad rows; nothing was imported.", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"{report.created} products created, {report.updated} updated.")


@codes.command("generate")
@click.option("--sku", required=True, help="The product's SKU.")
@click.option("--count", required=True, type=int, help="How many codes.")
@click.option("--region", "region_iso", default=None, help="ISO code of the region it ships to.")
@click.option("--distributor", default="", help="The distributor it ships to.")
@click.option("--lot", "production_lot", default="", help="The production lot.")
@click.option("--canary", is_flag=True, help="Canary codes: never printed; a registration means a leak.")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="The CSV file to write (serial,code,display,url).",
)
def generate(
    sku: str,
    count: int,
    region_iso: str | None,
    distributor: str,
    production_lot: str,
    canary: bool,
    out_path: str,
) -> None:
    """Issue a batch and stream its codes into a CSV; prints the batch number last."""
    session = db.session
    product = session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise click.ClickException(f"no product with SKU {sku}")
    region = None
    if region_iso:
        region = session.scalar(select(Region).where(Region.iso_code == region_iso.upper()))
        if region is None:
            raise click.ClickException(f"no region {region_iso}")
    try:
        batch = issuing.issue_batch(
            session,
            product,
            count,
            region=region,
            distributor=distributor,
            production_lot=production_lot,
            is_canary=canary,
        )
    except DomainError as error:
        raise click.ClickException(error.message) from None
    session.commit()
    started = time.perf_counter()
    with open(out_path, "wb", buffering=1 << 22) as out:
        write_csv(
            out,
            services.current_scheme(),
            batch.key_version,
            batch.number,
            1,
            batch.count,
            services.code_url(""),
        )
    seconds = time.perf_counter() - started
    click.echo(f"{count} codes of {sku} written to {out_path} in {seconds:.1f} s", err=True)
    click.echo(str(batch.number))


@codes.command("activate")
@click.argument("number", type=int)
def activate(number: int) -> None:
    """Mark batch NUMBER shipped, so its codes earn points."""
    try:
        batch = issuing.batch_by_number(db.session, number)
        issuing.set_batch_status(db.session, batch, BatchStatus.ACTIVATED, actor=None)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"batch {number} activated")


@codes.command("status")
@click.argument("number", type=int)
@click.argument("status", type=click.Choice([s.value for s in BatchStatus]))
def status(number: int, status: str) -> None:
    """Move batch NUMBER to STATUS (printed, activated, voided)."""
    try:
        batch = issuing.batch_by_number(db.session, number)
        issuing.set_batch_status(db.session, batch, BatchStatus(status), actor=None)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"batch {number} is {status}")


@codes.group("keys")
def code_keys() -> None:
    """The code keys: add a version, prove the configured keys decode every batch."""


@code_keys.command("rotate")
def rotate_keys() -> None:
    """Add a new key version; new batches use it, old batches keep theirs."""
    version, hexkey = keys.new_key_pair(current_app.config["CODE_KEYS"])
    path = current_app.config.get("CODE_KEYS_FILE")
    if not path:
        # The keys come from the environment: writing them anywhere else would split them.
        click.echo(
            "CODE_KEYS comes from the environment; nothing was written. Append this pair to "
            "CODE_KEYS on every app process and worker, back it up with the others, then restart:",
            err=True,
        )
        click.echo(f"{version}:{hexkey}")
        return
    keys.append_to_file(Path(path), version, hexkey)
    keys.remember_fingerprint(db.session, scheme_from_setting(f"{version}:{hexkey}"), version)
    db.session.commit()
    click.echo(f"key version {version} added to {path}; new batches use it. Back the file up now.")


@code_keys.command("check")
def check_keys() -> None:
    """Decode a sample of every batch with the configured keys; exit 1 naming those that fail."""
    results = keys.check_batches(db.session, services.current_scheme())
    db.session.commit()  # fingerprints of versions seen for the first time
    failed = [r for r in results if r.problem]
    for result in failed:
        click.echo(f"batch {result.number}: {result.problem}", err=True)
    if failed:
        click.echo(f"{len(failed)} of {len(results)} batches cannot be verified with these keys.", err=True)
        sys.exit(1)
    click.echo(f"{len(results)} batches decode with the configured keys.")
