"""`flask products ...` and `flask codes ...`."""

from __future__ import annotations

import shutil
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from codes import history_import, issuing, keys, services
from codes.models import BatchStatus, Product
from codes.scheme import scheme_from_setting, write_csv
from partner_club.errors import DomainError
from partner_club.extensions import db
from partner_club.jobs.follow import follow_job
from partner_club.jobs.models import JobStatus
from partner_club.jobs.services import enqueue
from partner_club.regions.models import Region
from partner_club.spreadsheets import csv_problems, decode_csv

products = AppGroup("products", help="Products (SKUs) and their points rules.")
codes = AppGroup("codes", help="Batches of package codes.")
registrations = AppGroup("registrations", help="Registrations of codes: history from an earlier programme.")


@products.command("import")
@click.argument("file", type=click.File("rb"))
def import_products(file) -> None:
    """Load sku,name,kind,package,volume_m3,points (points: N per package or N/m3)."""
    try:
        text = decode_csv(file.read())
    except DomainError as error:
        raise click.ClickException(error.message) from None
    unreadable = csv_problems(text, delimiter=",")
    if unreadable:
        for line, message in unreadable:
            click.echo(f"line {line}: {message}", err=True)
        raise click.ClickException(f"{len(unreadable)} bad rows; nothing was imported.")
    report = issuing.import_products(db.session, text)
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
@click.option(
    "--at",
    "at",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]),
    help="When the batch shipped (UTC), for history from an earlier programme; default now.",
)
def activate(number: int, at: datetime | None) -> None:
    """Mark batch NUMBER shipped, so its codes earn points."""
    try:
        history_import.activate_batch_at(db.session, number, at.replace(tzinfo=UTC) if at else None)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"batch {number} activated" + (f" as of {at:%Y-%m-%d %H:%M} UTC" if at else ""))


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


@registrations.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--fraud", "with_fraud", is_flag=True, help="Run the fraud rules on each registration.")
@click.option(
    "--queue/--no-queue",
    "queued",
    default=None,
    help=f"Run as a background job with progress (default: above {history_import.QUEUE_ABOVE} lines).",
)
def import_registrations(file: Path, with_fraud: bool, queued: bool | None) -> None:
    """Load past registrations from a JSON-lines file in the fraud replay's event format.

    Each line: {"id", "ts" (ISO 8601), "participant", "outlet" (external_id),
    "code", "channel", "ip"?, "device"?, "lat"?, "lon"?}. Points, ledger and
    rollups as for a live registration, at the event's own time; bad lines are
    named and skipped.
    """
    lines = history_import.count_lines(file)
    if queued is None:
        queued = lines > history_import.QUEUE_ABOVE
    if queued:
        _enqueue_history(file, lines, with_fraud)
        return

    def after_chunk(report: history_import.HistoryReport) -> None:
        db.session.commit()
        click.echo(f"{report.lines}/{lines} lines, {report.registered} registered", err=True)

    report = history_import.import_history(
        db.session, history_import.read_lines(file), with_fraud=with_fraud, after_chunk=after_chunk
    )
    db.session.commit()
    _print_history(report)


def _enqueue_history(file: Path, lines: int, with_fraud: bool) -> None:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / f"registrations-{uuid.uuid4().hex}.jsonl"
    shutil.copyfile(file, copy)  # the job reads its own copy, wherever the worker runs
    job = enqueue(
        db.session,
        history_import.import_history_job,
        title=f"Registrations import: {file.name} ({lines} lines)",
        path=str(copy),
        with_fraud=with_fraud,
    )
    db.session.commit()  # the job starts now (a worker, or a thread of this process)
    click.echo(f"job {job.id}: {lines} lines queued", err=True)
    row = follow_job(job.id, lambda text: click.echo(text, err=True))
    if row is None:
        return
    if row.status == JobStatus.FAILED.value:
        raise click.ClickException(f"job {job.id} failed:\n{row.error}")
    result = row.result or {}
    for bad in result.get("bad_lines", []):
        click.echo(f"line {bad}", err=True)
    click.echo(
        f"{result.get('registered', 0)} registered, {result.get('duplicates', 0)} already registered, "
        f"{result.get('bad', 0)} bad lines, {result.get('people_created', 0)} people created "
        f"in {result.get('seconds', 0)} s"
    )


def _print_history(report: history_import.HistoryReport) -> None:
    for line, problem in report.bad:
        click.echo(f"line {line}: {problem}", err=True)
    if report.bad_count > len(report.bad):
        click.echo(f"... and {report.bad_count - len(report.bad)} more bad lines", err=True)
    rate = report.lines / report.seconds if report.seconds else 0
    click.echo(
        f"{report.registered} registered ({report.pending} held for review), {report.duplicates} already "
        f"registered, {sum(report.refused.values())} refused, {report.bad_count} bad lines, "
        f"{report.people_created} people created in {report.seconds:.1f} s ({rate:.0f} lines/s)"
    )


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
