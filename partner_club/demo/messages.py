"""The demo world's messages: in-app notifications, support requests, mailings and a call list.

Runs after every other package's seeder (it announces their campaigns).
Everything goes through the packages' own services, and nothing
leaves the club: notifications are written with `deliver=False`, and the
delivery jobs the support desk queues for its own notifications are dropped
before the seed commits.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from partner_club.accounts.kinds import SELLERS_PAGE
from partner_club.accounts.models import Role, User, UserStatus
from partner_club.campaigns.kinds import LAUNCHED
from partner_club.campaigns.models import Campaign
from partner_club.campaigns.models import Status as CampaignStatus
from partner_club.demo.world import DemoWorld
from partner_club.jobs.models import Job
from partner_club.jobs.services import func_path
from partner_club.mailings import calls
from partner_club.mailings import services as mailings
from partner_club.mailings.models import CallOutcome
from partner_club.notifications.jobs import deliver_notification
from partner_club.notifications.models import Notification
from partner_club.notifications.services import mark_read, notify
from partner_club.outlets.models import Outlet
from partner_club.regions.models import Territory
from partner_club.support import services as support

PHOTO_LIMIT = 1  # the demo's requests carry no pictures


def seed(session: Session, world: DemoWorld) -> None:
    participant = _login(session, world, Role.SELLER)
    owner = _login(session, world, Role.OWNER)
    first_job = session.scalar(select(Job.id).order_by(Job.id.desc()).limit(1)) or 0
    tickets = _support(session, world, participant, owner)
    _notifications(session, world, participant, owner)
    mailing_people = _mailings(session, world)
    # Everything but the newest two of each is read (their points and the mailing too).
    for person in (participant, owner):
        mark_read(session, person.id, _notification_ids(session, person.id)[:-2], now=world.now)
    # The support desk queues delivery of its notifications: the demo sends nothing.
    session.execute(
        delete(Job).where(Job.id > first_job, Job.func == func_path(deliver_notification)),
        execution_options={"synchronize_session": False},
    )
    session.flush()
    world.notes.append(
        f"Messages: notifications for the demo logins, {tickets} support requests at /support/, "
        f"a mailing sent to {mailing_people} people and one scheduled, a call list at /mailings/."
    )


def _login(session: Session, world: DemoWorld, role: Role) -> User:
    login = world.logins[role.value][0]
    return session.scalars(select(User).where(User.login == login)).one()


def _rep_of(session: Session, person: User) -> User:
    outlet = session.get_one(Outlet, person.outlet_id)
    territory = session.get_one(Territory, outlet.territory_id)
    return session.get_one(User, territory.rep_id)


def _support(session: Session, world: DemoWorld, participant: User, owner: User) -> int:
    """Three requests: one answered and resolved, one with the participant's reply, one waiting."""
    answered = support.open_ticket(
        session,
        participant,
        topic="code",
        text="Код с упаковки не распознаётся камерой, ввела вручную — пишет «код не найден».",
        page="/codes/register",
        max_photo_bytes=PHOTO_LIMIT,
    )
    rep = _rep_of(session, participant)
    support.add_message(
        session,
        rep,
        answered,
        text="Проверили: в коде буква O вместо нуля. Введите 0 (ноль) — баллы начислятся.",
        max_photo_bytes=PHOTO_LIMIT,
        resolve=True,
    )
    replied = support.open_ticket(
        session,
        participant,
        topic="prize",
        text="Хочу заказать термос. Сколько обычно идёт доставка в Москву?",
        page="/prizes/orders",
        max_photo_bytes=PHOTO_LIMIT,
    )
    support.add_message(
        session,
        rep,
        replied,
        text="Обычно 5–7 дней; трек-номер придёт в уведомлении, когда заказ отправят.",
        max_photo_bytes=PHOTO_LIMIT,
    )
    support.add_message(
        session,
        participant,
        replied,
        text="Спасибо! А можно забрать в офисе дистрибьютора?",
        max_photo_bytes=PHOTO_LIMIT,
    )
    support.open_ticket(
        session,
        owner,
        topic="question",
        text="Как добавить второго продавца в магазин? Он уже зарегистрировался.",
        page="/shop/sellers",
        max_photo_bytes=PHOTO_LIMIT,
    )
    # The rep has read the oldest request's notice, not the later ones.
    mark_read(session, rep.id, _notification_ids(session, rep.id)[:1], now=world.now)
    return 3


def _notification_ids(session: Session, user_id: int) -> list[int]:
    """The person's notifications, oldest first."""
    return list(
        session.scalars(
            select(Notification.id).where(Notification.user_id == user_id).order_by(Notification.id)
        )
    )


def _notifications(session: Session, world: DemoWorld, participant: User, owner: User) -> None:
    """A campaign launched (to both), a seller waiting for the owner; the older ones read."""
    campaign = session.scalars(
        select(Campaign).where(Campaign.status == CampaignStatus.RUNNING.value).order_by(Campaign.id).limit(1)
    ).first()
    if campaign is not None:
        params = {"campaign_id": campaign.id, "name_ru": campaign.name_ru, "name_en": campaign.name_en}
        for person in (participant, owner):
            notify(
                session, person.id, LAUNCHED, params, link=f"/campaigns#campaign-{campaign.id}", deliver=False
            )
    newcomer = User(
        login="+79990000001",
        phone="+79990000001",
        role=Role.SELLER.value,
        status=UserStatus.PENDING.value,
        full_name="Роман Белов",
        locale="ru",
        outlet_id=owner.outlet_id,
        password_hash=owner.password_hash,
    )
    session.add(newcomer)
    session.flush()
    notify(
        session, owner.id, "seller.waiting", {"name": newcomer.display_name}, link=SELLERS_PAGE, deliver=False
    )


def _mailings(session: Session, world: DemoWorld) -> int:
    """The first region's manager: a mailing sent to its owners, one for next week, a call list."""
    manager = world.managers[0]
    sent = mailings.save_mailing(
        session,
        mailings.MailingDraft(
            title_ru="Весна в регионах: баллы x2",
            title_en="Spring in the regions: points x2",
            body_ru="До конца месяца каждая упаковка приносит вдвое больше баллов. Регистрируйте коды!",
            body_en="Until the end of the month every package earns double points. Register your codes!",
            channels=["push", "email"],
            segment={"regions": [world.regions[0].id], "roles": [Role.OWNER.value]},
        ),
        actor=manager,
    )
    sent_at = world.now - timedelta(days=2)
    mailings.mark_sending(session, sent, actor=manager, now=sent_at)
    where = mailings.send_filter(session, sent, sent_at)
    people = 0
    while handled := mailings.send_batch(session, sent, where, now=sent_at, limit=500)[0]:
        people += handled
    mailings.finish(session, sent, sent_at)
    later = mailings.save_mailing(
        session,
        mailings.MailingDraft(
            title_ru="Новые призы в каталоге",
            title_en="New prizes in the catalogue",
            body_ru="В каталоге появились термосы и рабочие куртки. Загляните в раздел «Призы».",
            body_en="Thermoses and work jackets are now in the catalogue. Have a look at Prizes.",
            channels=["push"],
            segment={"regions": [world.regions[0].id]},
        ),
        actor=manager,
    )
    mailings.schedule(session, later, world.now + timedelta(days=7), actor=manager, now=world.now)
    territory = next(t for t in world.territories if t.region_id == world.regions[0].id)
    call_list = calls.create_call_list(
        session,
        title="Обзвон владельцев: весенняя акция",
        reason="Рассказать об акции x2 владельцам территории",
        segment={"territories": [territory.id], "roles": [Role.OWNER.value]},
        actor=manager,
        now=world.now,
        locale="ru",
    )
    for entry, outcome, note in zip(
        calls.entries(session, call_list),
        (CallOutcome.REACHED, CallOutcome.NO_ANSWER),
        ("Знает об акции, закажет ещё краски", "Перезвонить после обеда"),
        strict=False,
    ):
        calls.record_call(session, entry, outcome=outcome.value, note=note, actor=manager, now=world.now)
    return people
