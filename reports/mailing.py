"""Scheduled report e-mails: a summary in the body, CSV and XLSX, a PNG of the map."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy.orm import Session

from partner_club.accounts.access import EVERYTHING
from partner_club.accounts.models import Role, User
from partner_club.notifications.services import Attachment, Message, send_now
from reports import exports, maps, services
from reports.kpi import STATUS_LABELS
from reports.models import Frequency, Subscription
from reports.periods import Period, current_month
from reports.subscriptions import mail_address, next_due

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_period(frequency: str, now: datetime) -> Period:
    """Monthly mail: the month just over; weekly mail: this month so far."""
    if frequency == Frequency.MONTHLY.value:
        return current_month(now).previous()
    return current_month(now - timedelta(days=1))


def build_message(session: Session, user: User, frequency: str, *, now: datetime, to: str) -> Message:
    with force_locale(user.locale or "ru"):
        return _build(session, user, frequency, now=now, to=to)


def _build(session: Session, user: User, frequency: str, *, now: datetime, to: str) -> Message:
    locale = user.locale or "ru"
    period = report_period(frequency, now)
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
    kind = _("Weekly") if frequency == Frequency.WEEKLY.value else _("Monthly")
    subject = _("%(kind)s KPI report, %(period)s", kind=kind, period=period.key)
    legend = {status: str(label) for status, label in STATUS_LABELS.items()}
    place = picture_report.total.name if picture_report.level == "region" else _("KPI map")
    png = maps.map_png(picture_report, title=f"{place} · {period.key}", legend=legend)
    lines = [
        subject,
        "",
        _(
            "Registrations: %(n)s, volume: %(v)s m³, points: %(p)s.",
            n=country.total.figures.registrations,
            v=round(country.total.figures.volume_m3, 2),
            p=country.total.figures.points,
        ),
        _(
            "Active shops: %(a)s of %(s)s.",
            a=country.total.figures.active_shops,
            s=country.total.figures.shops,
        ),
    ]
    counts = {status: sum(1 for r in rows if r.status == status) for status in STATUS_LABELS}
    lines.append(", ".join(f"{label}: {counts[status]}" for status, label in legend.items()))
    behind = sorted((r for r in rows if r.gap is not None and r.gap > 0), key=lambda r: -(r.gap or 0))[:5]
    if behind:
        lines += ["", _("Furthest from target:")]
        lines += [
            "- " + _("%(name)s: %(gap)s%% to go", name=r.name, gap=round(100 * (r.gap or 0))) for r in behind
        ]
    lines += [str(note) for note in country.notes]
    html = (
        "<html><body>"
        + "".join(f"<p>{escape(line)}</p>" for line in lines if line)
        + '<p><img src="cid:kpi-map" alt="map" width="800"></p></body></html>'
    )
    base = f"kpi-{period.key}"
    return Message(
        to=to,
        subject=subject,
        text="\n".join(lines),
        html=html,
        attachments=[
            Attachment(f"{base}.csv", exports.to_csv(columns, table), "text/csv"),
            Attachment(f"{base}.xlsx", exports.to_xlsx(columns, table, title=base), XLSX),
            Attachment(f"{base}.png", png, "image/png"),
        ],
        inline_images={"kpi-map": png},
    )


def deliver(
    session: Session, subscription: Subscription, *, now: datetime, config: Mapping[str, Any]
) -> bool:
    """Sends one due report and moves its due date on; False when the person has no address.

    The mail goes out before the caller commits the new due date: should the
    commit fail, the report is sent again next time rather than never.
    """
    user = subscription.user
    address = mail_address(user)
    if address is not None and not user.is_blocked:
        send_now(build_message(session, user, subscription.frequency, now=now, to=address), "email", config)
    subscription.last_sent_at = now
    subscription.next_due_at = next_due(subscription.frequency, now)
    session.flush()
    return address is not None and not user.is_blocked
