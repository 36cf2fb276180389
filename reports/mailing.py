"""Scheduled report e-mails: a summary in the body, CSV and XLSX, a PNG of the map."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from partner_club.accounts.access import EVERYTHING
from partner_club.accounts.models import Role, User
from partner_club.emails import recipient_locale, render_email
from partner_club.errors import DomainError
from partner_club.notifications.services import Attachment, Message, allowed_channels, send_now
from reports import exports, maps, services
from reports.kpi import STATUS_COLOURS, STATUS_LABELS
from reports.models import Frequency, ReportSpan, Subscription
from reports.periods import Period
from reports.subscriptions import confirmed_address, next_due, report_period

log = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def build_message(
    session: Session,
    user: User,
    frequency: str,
    *,
    now: datetime,
    to: str,
    span: str | None = None,
    zone: str = "UTC",
) -> Message:
    """The KPI report e-mail of `user`'s scope, in `user`'s language."""
    chosen = span or (
        ReportSpan.PREVIOUS_MONTH.value
        if frequency == Frequency.MONTHLY.value
        else ReportSpan.MONTH_TO_DATE.value
    )
    period = report_period(chosen, now, zone)
    locale = recipient_locale(user.locale)
    with force_locale(locale):
        context, attachments, png = _report(session, user, period, now=now, locale=locale)
    subject, text, html = render_email(
        "reports/email/kpi_report", locale=locale, frequency=frequency, period=period, **context
    )
    return Message(
        to=to, subject=subject, text=text, html=html, attachments=attachments, inline_images={"kpi-map": png}
    )


def _report(
    session: Session, user: User, period: Period, *, now: datetime, locale: str
) -> tuple[dict[str, Any], list[Attachment], bytes]:
    country = services.country_report(session, user, period, now=now, locale=locale)
    picture_report, rows = country, list(country.rows)
    columns, table = exports.report_table(country)
    if Role(user.role) not in EVERYTHING:
        # A rep or manager: the regions they work in, down to their shops.
        for region_row in country.rows:
            region = services.region_report(session, user, region_row.code, period, now=now, locale=locale)
            table += exports.report_table(region)[1][1:]
            rows += region.rows + region.outlets
            picture_report = region
    legend = {status: str(label) for status, label in STATUS_LABELS.items()}
    place = picture_report.total.name if picture_report.level == "region" else _("KPI map")
    png = maps.map_png(picture_report, title=f"{place} · {period.key}", legend=legend)
    behind = sorted((r for r in rows if r.gap is not None and r.gap > 0), key=lambda r: -(r.gap or 0))[:5]
    figures = country.total.figures
    context = {
        "figures": figures,
        "volume": round(figures.volume_m3, 2),
        "statuses": [
            (label, STATUS_COLOURS[status], sum(1 for r in rows if r.status == status))
            for status, label in legend.items()
        ],
        "behind": [(r.name, round(100 * (r.gap or 0))) for r in behind],
        "notes": [str(note) for note in country.notes],
        "map_link": f"/reports/map?period={period.key}",
    }
    base = f"kpi-{period.key}"
    attachments = [
        Attachment(f"{base}.csv", exports.to_csv(columns, table), "text/csv"),
        Attachment(f"{base}.xlsx", exports.to_xlsx(columns, table, title=base), XLSX),
        Attachment(f"{base}.png", png, "image/png"),
    ]
    return context, attachments, png


def preview_html(message: Message) -> str:
    """The e-mail's HTML as a browser shows it: the map inline instead of a cid: reference."""
    html = message.html or ""
    for cid, png in message.inline_images.items():
        html = html.replace(f"cid:{cid}", "data:image/png;base64," + base64.b64encode(png).decode())
    return html


REPORTS = "reports"  # the profile's "Report e-mails" group


def why_not_sent(session: Session, user: User) -> str | None:
    """Why a report may not go to this person now (None: it may)."""
    if user.is_blocked:
        return "the person is blocked"
    if "email" not in allowed_channels(session, user.id, REPORTS):
        return "report e-mails switched off in the person's choices"
    if confirmed_address(user) is None:
        return "no confirmed e-mail address"
    return None


def deliver(
    session: Session, subscription: Subscription, *, now: datetime, config: Mapping[str, Any]
) -> str | None:
    """Sends one due report and moves its due date on; returns why it was skipped (see
    `why_not_sent`; nothing to report on, e.g. a rep with no territory), None when sent.

    The mail goes out before the caller commits the new due date: should the
    commit fail, the report is sent again next time rather than never.
    """
    user = subscription.user
    skipped = why_not_sent(session, user)
    if skipped is None:
        try:
            message = build_message(
                session,
                user,
                subscription.frequency,
                now=now,
                to=confirmed_address(user) or "",
                span=subscription.span,
                zone=subscription.time_zone,
            )
        except DomainError as error:  # e.g. a rep with no territory yet: skipped, not failed
            skipped = f"nothing to report on ({error.code})"
        else:
            send_now(message, "email", config)
    if skipped is not None:
        log.info("report of subscription %s skipped: %s", subscription.id, skipped)
    subscription.last_sent_at = now
    subscription.next_due_at = next_due(
        subscription.frequency,
        now,
        weekday=subscription.weekday,
        hour=subscription.hour,
        zone=subscription.time_zone,
    )
    session.flush()
    return skipped
