"""The review queue: who may review which case, and what a decision does.

Approving or rejecting a held registration tells codes through
`registration_reviewed` (codes sets the registration's status and moves the
points); a rejection can also warn or block the participant. Every decision
is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, String, false, func, or_, select, true
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from fraud.kinds import ACCEPTED, REGISTRATIONS_PAGE, REJECTED
from fraud.models import CaseAction, CaseStatus, FraudObservation, ReviewCase
from fraud.services import review_sla_hours
from partner_club.accounts.access import can_see_user, rep_territory_ids, user_filter
from partner_club.accounts.models import Role, User
from partner_club.accounts.services import block_user
from partner_club.audit.services import record
from partner_club.database import utcnow
from partner_club.emails import recipient_locale, render_email
from partner_club.errors import Conflict, Forbidden, Invalid
from partner_club.ledger.models import Bucket, LedgerEntry
from partner_club.notifications.services import Message, notify, send_after_commit
from partner_club.outlets.models import Outlet
from partner_club.signals import registration_reviewed

REVIEWER_ROLES = frozenset({Role.ADMIN, Role.REGIONAL_MANAGER, Role.REP})


def is_reviewer(user: User) -> bool:
    return Role(user.role) in REVIEWER_ROLES


def case_filter(viewer: User) -> ColumnElement[bool]:
    """Cases a reviewer may see: all for an admin, their region's for a regional manager (who
    is told when they wait too long), their territories' for a rep."""
    role = Role(viewer.role)
    if role is Role.ADMIN:
        return true()
    if role is Role.REGIONAL_MANAGER and viewer.region_id is not None:
        shops = select(Outlet.id).where(Outlet.region_id == viewer.region_id).scalar_subquery()
        people = select(User.id).where(user_filter(viewer)).scalar_subquery()
        return or_(ReviewCase.outlet_id.in_(shops), ReviewCase.participant_id.in_(people))
    if role is not Role.REP:
        return false()
    territories = rep_territory_ids(viewer)
    shops = select(Outlet.id).where(Outlet.territory_id.in_(territories)).scalar_subquery()
    people = select(User.id).where(User.territory_id.in_(territories)).scalar_subquery()
    return or_(ReviewCase.outlet_id.in_(shops), ReviewCase.participant_id.in_(people))


def cases_query(viewer: User, *, status: str = CaseStatus.OPEN.value) -> Select:
    query = select(ReviewCase).where(case_filter(viewer))
    if status != "all":
        query = query.where(ReviewCase.status == status)
    # Escalated cases first: they waited longer than the club promised the participant.
    return query.order_by(ReviewCase.escalated_at.is_(None), ReviewCase.score.desc(), ReviewCase.created_at)


def can_review(session: Session, viewer: User, case: ReviewCase) -> bool:
    return (
        session.scalar(select(ReviewCase.id).where(ReviewCase.id == case.id, case_filter(viewer))) is not None
    )


def participant_history(session: Session, participant_id: int, *, limit: int = 50) -> list[FraudObservation]:
    return list(
        session.scalars(
            select(FraudObservation)
            .where(FraudObservation.participant_id == participant_id)
            .order_by(FraudObservation.at.desc(), FraudObservation.id.desc())
            .limit(limit)
        )
    )


def decide_case(
    session: Session,
    case: ReviewCase,
    *,
    reviewer: User,
    decision: str,
    note: str = "",
    action: str = CaseAction.NONE.value,
) -> ReviewCase:
    """Approve (pending points become active) or reject (points removed; warn or block)."""
    if not can_review(session, reviewer, case):
        raise Forbidden(_("You may not review this case."), code="not_your_case")
    if case.status != CaseStatus.OPEN.value:
        raise Conflict(_("This case was already decided."), code="case_closed")
    if decision not in ("accept", "reject"):
        raise Invalid(_("Choose approve or reject."), code="decision_invalid")
    if action not in {a.value for a in CaseAction}:
        raise Invalid(_("Choose what happens to the participant."), code="action_invalid")
    note = (note or "").strip()
    if decision == "reject" and action == CaseAction.BLOCK.value and not note:
        raise Invalid(_("Write a note: a blocked participant sees it as the reason."), code="note_missing")
    if decision == "accept":
        action = CaseAction.NONE.value
    case.status = CaseStatus.APPROVED.value if decision == "accept" else CaseStatus.REJECTED.value
    case.action, case.note = action, note or None
    case.reviewer_id, case.resolved_at = reviewer.id, utcnow()
    session.flush()
    if case.registration_id is not None:
        registration_reviewed.send(
            case.registration_id, session=session, decision=decision, reviewer=reviewer, note=note
        )
    participant = session.get(User, case.participant_id)
    if case.registration_id is not None:
        params = {} if decision == "accept" else {"reason": note or "—"}
        notify(
            session,
            participant.id,
            ACCEPTED if decision == "accept" else REJECTED,
            params,
            link=REGISTRATIONS_PAGE,
        )
    if action == CaseAction.BLOCK.value and not participant.is_blocked:
        block_user(session, participant, reason=note, actor=reviewer)
    elif action == CaseAction.WARN.value and participant.email:
        with force_locale(recipient_locale(participant.locale)):
            none = _("none")
        subject, text, html = render_email(
            "fraud/email/warned",
            locale=participant.locale,
            note=note or none,
            link=current_app.config["PUBLIC_URL"] + REGISTRATIONS_PAGE,
        )
        send_after_commit(session, Message(participant.email, subject, text, html))
    record(
        session,
        reviewer,
        f"fraud.case.{'approve' if decision == 'accept' else 'reject'}",
        case,
        registration_id=case.registration_id,
        participant_id=case.participant_id,
        measure=action,
        note=note,
    )
    return case


def flagged_people(
    session: Session, viewer: User, *, since, minimum: int = 3, limit: int = 50
) -> list[tuple]:
    """People in the viewer's scope with several held or refused attempts since `since`:
    (user, held, rejected), most suspicious first."""
    held = func.sum(sql_case((FraudObservation.decision == "hold", 1), else_=0))
    rejected = func.sum(sql_case((FraudObservation.decision == "reject", 1), else_=0))
    rows = session.execute(
        select(FraudObservation.participant_id, held, rejected)
        .where(FraudObservation.at >= since, FraudObservation.decision != "accept")
        .group_by(FraudObservation.participant_id)
        .having(held + rejected >= minimum)
        .order_by((held + rejected).desc())
        .limit(limit * 4)
    ).all()
    if not rows:
        return []
    visible = {
        u.id: u
        for u in session.scalars(select(User).where(User.id.in_([r[0] for r in rows]), user_filter(viewer)))
    }
    return [(visible[pid], int(h), int(r)) for pid, h, r in rows if pid in visible][:limit]


def block_participant(session: Session, person: User, *, reviewer: User, note: str) -> User:
    if not is_reviewer(reviewer) or not can_see_user(reviewer, person):
        raise Forbidden(_("You may not review this case."), code="not_your_case")
    if not person.is_participant:
        raise Invalid(_("Only shop owners and sellers are blocked here."), code="not_a_participant")
    block_user(session, person, reason=note, actor=reviewer)
    record(session, reviewer, "fraud.block", person, note=note)
    return person


# --- deciding a whole roll, batch or person at once ------------------------------

BULK_KINDS = ("roll", "batch", "person")
REGISTRATION_CAUSE = "registration"  # the ledger's cause_type of a code's points (codes.services.CAUSE)


@dataclass(frozen=True)
class BulkScope:
    """The open cases decided together: a person's, a batch's, or a person's roll of one batch.

    A roll is a run of neighbouring serials one person registered from one
    batch, as the roll rule sees it (the observation's `run_start`).
    """

    kind: str
    participant_id: int | None = None
    batch_id: int | None = None
    run_start: int | None = None

    @classmethod
    def around(cls, case: ReviewCase, kind: str) -> BulkScope:
        obs = case.observation
        if kind == "person":
            return cls(kind, participant_id=case.participant_id)
        if obs.batch_id is None:
            raise Invalid(_("This case has no batch: decide it alone."), code="no_batch")
        if kind == "batch":
            return cls(kind, batch_id=obs.batch_id)
        if kind == "roll":
            return cls(
                kind, participant_id=case.participant_id, batch_id=obs.batch_id, run_start=obs.run_start
            )
        raise Invalid(_("Choose a roll, a batch or a person."), code="scope_invalid")


@dataclass(frozen=True)
class BulkSummary:
    cases: int
    people: int
    points: int  # pending points the decision makes active or removes


def bulk_cases_query(viewer: User, scope: BulkScope) -> Select:
    query = (
        select(ReviewCase)
        .join(FraudObservation, FraudObservation.id == ReviewCase.observation_id)
        .where(case_filter(viewer), ReviewCase.status == CaseStatus.OPEN.value)
    )
    if scope.participant_id is not None:
        query = query.where(ReviewCase.participant_id == scope.participant_id)
    if scope.batch_id is not None:
        query = query.where(FraudObservation.batch_id == scope.batch_id)
    if scope.kind == "roll":
        query = query.where(FraudObservation.run_start == scope.run_start)
    return query.order_by(ReviewCase.id)


def bulk_summary(session: Session, viewer: User, scope: BulkScope) -> BulkSummary:
    """How many open cases, people and held points a bulk decision would touch."""
    cases = bulk_cases_query(viewer, scope).subquery()
    count, people = session.execute(
        select(func.count(cases.c.id), func.count(func.distinct(cases.c.participant_id)))
    ).one()
    registrations = select(func.cast(cases.c.registration_id, String)).where(
        cases.c.registration_id.is_not(None)
    )
    points = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.cause_type == REGISTRATION_CAUSE,
            LedgerEntry.bucket == Bucket.PENDING.value,
            LedgerEntry.cause_id.in_(registrations),
        )
    )
    return BulkSummary(int(count), int(people), max(0, int(points or 0)))


def decide_bulk(
    session: Session,
    scope: BulkScope,
    *,
    reviewer: User,
    decision: str,
    expected_cases: int,
    note: str = "",
    action: str = CaseAction.NONE.value,
) -> BulkSummary:
    """Decides every open case of the scope, each through `decide_case`, so the ledger moves case by case.

    `expected_cases` is the count the reviewer confirmed: if cases arrived or
    were decided since, nothing is done and the reviewer looks again.
    """
    if not is_reviewer(reviewer):
        raise Forbidden(_("You may not review this case."), code="not_your_case")
    summary = bulk_summary(session, reviewer, scope)
    if summary.cases != expected_cases:
        raise Conflict(
            _(
                "The cases changed since you looked: %(count)d are open now. Check and confirm again.",
                count=summary.cases,
            ),
            code="bulk_changed",
        )
    for case in session.scalars(bulk_cases_query(reviewer, scope)).all():
        decide_case(session, case, reviewer=reviewer, decision=decision, note=note, action=action)
    return summary


def escalate_overdue(session: Session, *, now: datetime | None = None) -> list[ReviewCase]:
    """Marks open cases older than the club's review time escalated and tells each case's
    regional manager (by e-mail, after commit); returns the newly escalated cases."""
    now = now or utcnow()
    limit = now - timedelta(hours=review_sla_hours(session))
    overdue = session.scalars(
        select(ReviewCase).where(
            ReviewCase.status == CaseStatus.OPEN.value,
            ReviewCase.escalated_at.is_(None),
            ReviewCase.created_at < limit,
        )
    ).all()
    by_manager: dict[int, tuple[User, list[ReviewCase]]] = {}
    for case in overdue:
        case.escalated_at = now
        region_id = case.outlet.region_id if case.outlet else case.participant.region_id
        managers = session.scalars(
            select(User).where(User.role == Role.REGIONAL_MANAGER.value, User.region_id == region_id)
        ).all()
        for manager in managers:
            by_manager.setdefault(manager.id, (manager, []))[1].append(case)
    for manager, cases in by_manager.values():
        record(session, None, "fraud.case.escalate", manager, cases=[c.id for c in cases])
        if manager.email:
            send_after_commit(session, _escalation_message(manager, cases, review_sla_hours(session)))
    session.flush()
    return list(overdue)


def _escalation_message(manager: User, cases: list[ReviewCase], hours: float) -> Message:
    """The e-mail to a regional manager, in their language, with a link to each case."""
    public_url = current_app.config["PUBLIC_URL"]
    rows = [
        {
            "id": c.id,
            "person": c.participant.full_name or c.participant.login,
            "shop": c.outlet.name if c.outlet else "-",
            "held": f"{c.created_at:%Y-%m-%d %H:%M} UTC",
            "link": f"{public_url}/fraud/cases/{c.id}",
        }
        for c in cases
    ]
    subject, text, html = render_email(
        "fraud/email/escalation",
        locale=manager.locale,
        cases=rows,
        hours=int(hours),
        queue_link=f"{public_url}/fraud/",
    )
    return Message(manager.email, subject, text, html)
