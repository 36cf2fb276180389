"""`flask fraud replay` and `flask fraud simulate`."""

from __future__ import annotations

import sys
from dataclasses import replace

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from codes.scheme import scheme_from_setting
from fraud.replay import replay as replay_events
from fraud.review import escalate_overdue
from fraud.services import REVIEW_SLA_KEY, load_config, review_sla_hours
from fraud.simulate import WORLDS, ensure_world, generate, shops_for
from partner_club.extensions import db
from partner_club.settings_store import put_setting

fraud = AppGroup("fraud", help="Fraud detection: replay and review.")


@fraud.command("replay")
@click.argument("events", type=click.File("r", encoding="utf-8-sig"))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.File("w", encoding="utf-8"),
    help="Where the decisions go, one JSON object a line.",
)
@click.option(
    "--record/--no-record",
    default=False,
    help="Also store every decision in the database (review queue, backtests).",
)
@click.option("--lang", default="en", show_default=True, help="Language of the reasons' messages.")
def replay(events, out, record: bool, lang: str) -> None:
    """Replay EVENTS.jsonl through the detectors in time order, each event's ts taken as now.

    Bad lines are reported one by one with their line numbers and not replayed;
    the command then exits with status 1.
    """
    scheme = scheme_from_setting(current_app.config["CODE_KEYS"])
    with force_locale(lang):
        report = replay_events(
            db.session,
            events,
            out,
            scheme=scheme,
            config=load_config(db.session),
            public_url=current_app.config.get("PUBLIC_URL"),
            record=record,
            progress=lambda n: click.echo(f"{n} events...", err=True),
        )
    db.session.commit()
    counts = ", ".join(f"{d} {report.decisions.get(d, 0)}" for d in ("accept", "hold", "reject"))
    click.echo(
        f"{report.events} events replayed in {report.seconds:.1f} s ({report.rate:.0f}/s): {counts}; "
        f"{report.people_created} people created."
    )
    if report.bad:
        for bad in report.bad:
            click.echo(f"line {bad.line}: {bad.problem}", err=True)
        click.echo(f"{len(report.bad)} bad lines were not replayed (listed above).", err=True)
        sys.exit(1)


@fraud.command("simulate")
@click.option("--events", "count", type=int, default=100000, show_default=True, help="About how many events.")
@click.option("--out", "out", required=True, type=click.File("w", encoding="utf-8"))
@click.option("--days", type=int, default=35, show_default=True)
@click.option("--seed", "seed", type=int, default=None, help="Default: the world's own seed.")
@click.option("--fraud-share", type=float, default=0.06, show_default=True)
@click.option(
    "--world",
    type=click.Choice(list(WORLDS)),
    default="base",
    show_default=True,
    help="Honest trade's parameters (fraud/simulate.py WORLDS): pallets, carrier NAT, late joiners...",
)
def simulate(count: int, out, days: int, seed: int | None, fraud_share: float, world: str) -> None:
    """Write a labelled event stream (shops SIM-..., batches added to the database if missing)."""
    if count < 100 or days < 8 or not 0 <= fraud_share < 0.5:
        raise click.BadParameter("use at least 100 events, 8 days and a fraud share below 0.5")
    scheme = scheme_from_setting(current_app.config["CODE_KEYS"])
    own_seed, params = WORLDS[world][:2]
    seed = own_seed if seed is None else seed
    params = replace(params, fraud_share=fraud_share)
    sim = ensure_world(
        db.session,
        shops=shops_for(count, days, params),
        seed=seed,
        key_version=scheme.current_version,
        params=params,
    )
    db.session.commit()
    counts = generate(sim, scheme, out, events=count, days=days, seed=seed)
    total = sum(counts.values())
    click.echo(f"{total} events written: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


@fraud.command("escalate")
def escalate() -> None:
    """Escalate open review cases older than the club's review time (`fraud.review_sla_hours`)
    to their region's regional manager. It runs hourly by itself (periodic task `fraud.escalate`)."""
    cases = escalate_overdue(db.session)
    db.session.commit()
    click.echo(f"{len(cases)} cases escalated (older than {review_sla_hours(db.session):g} hours).")


@fraud.command("review-time")
@click.argument("hours", type=click.IntRange(1, 24 * 30), required=False)
def review_time(hours: int | None) -> None:
    """Show or set the hours within which held registrations are answered (`fraud.review_sla_hours`):
    participants are told to expect an answer within them; `fraud escalate` acts after them."""
    if hours is not None:
        put_setting(db.session, REVIEW_SLA_KEY, hours)
        db.session.commit()
    click.echo(f"Held registrations are answered within {review_sla_hours(db.session):g} hours.")
