"""`flask demo seed`: a world big enough to be real, shops inside their regions, logins that work."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from partner_club.accounts.models import Role, User
from partner_club.demo.seed import DEMO_PASSWORD, seed_demo, seed_world
from partner_club.outlets.models import Outlet
from partner_club.regions import geo
from partner_club.regions.models import Territory
from partner_club.regions.services import region_at


def test_world_has_regions_staff_and_300_shops_each_inside_its_region(db):
    world = seed_world(db.session)
    session = db.session
    outlets = session.scalars(select(Outlet)).all()
    assert len(outlets) >= 300
    assert len(world.regions) >= 3
    for outlet in outlets:
        shape = geo.shape_of(outlet.region.geometry)
        assert geo.contains(shape, outlet.lat, outlet.lon), (outlet.external_id, outlet.region.iso_code)
        assert outlet.territory.region_id == outlet.region_id
    # Placed by the real boundaries: the lookup over every region agrees for a sample.
    for outlet in outlets[::40]:
        assert region_at(session, outlet.lat, outlet.lon).id == outlet.region_id

    roles = Counter(session.scalars(select(User.role)))
    assert roles[Role.ADMIN.value] == 1 and roles[Role.HEAD_OFFICE.value] == 1
    assert roles[Role.REGIONAL_MANAGER.value] == len(world.regions)
    assert roles[Role.OWNER.value] == len(outlets)
    assert roles[Role.SELLER.value] >= 200
    for region in world.regions:
        reps = session.scalars(select(Territory.rep_id).where(Territory.region_id == region.id)).all()
        assert 2 <= len(set(reps)) <= 3
        assert (
            session.scalar(
                select(func.count(User.id)).where(
                    User.role == Role.REGIONAL_MANAGER.value, User.region_id == region.id
                )
            )
            == 1
        )
        assert session.scalar(select(func.count(Outlet.id)).where(Outlet.region_id == region.id)) >= 50
    shops_with_sellers = {s.outlet_id for s in world.sellers}
    assert len(shops_with_sellers) >= len(outlets) // 2
    assert all(p.territory_id and p.outlet_id is None for p in world.individuals)
    assert set(world.logins) == {r.value for r in Role}


def test_world_is_the_same_for_the_same_seed(db):
    def snapshot():
        world = seed_world(db.session, rng_seed=5, shops=40)
        return [(o.external_id, o.name, o.lat, o.lon) for o in world.outlets], [
            u.full_name for u in world.owners
        ]

    first = snapshot()
    db.session.rollback()
    assert snapshot() == first


def test_package_seeders_get_the_world_in_order(db):
    calls = []

    def first(session, world):
        calls.append(("first", len(world.outlets)))
        world.logins["extra"] = ("someone", "secret")

    def second(session, world):
        calls.append(("second", "extra" in world.logins))

    seed_demo(db.session, (first, second), shops=30)
    assert calls == [("first", 30), ("second", True)]


def test_cli_seeds_once_prints_logins_that_work_and_skips_when_not_empty(app, db, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(Outlet.id))) >= 300
    logins = {}
    for line in result.output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in {r.value for r in Role}:
            logins[parts[0]] = (parts[1], parts[2])
    assert set(logins) >= {r.value for r in Role}
    for role, (login, password) in logins.items():
        assert password == DEMO_PASSWORD
        response = client.post("/login", data={"login": login, "password": password})
        assert response.status_code == 302, (role, response.get_data(as_text=True)[:300])
        client.post("/logout")
        user = db.session.scalar(select(User).where(User.login == login))
        assert user.role == role

    users = db.session.scalar(select(func.count(User.id)))
    result = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert result.exit_code == 0 and "skipped" in result.output
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 1
    assert db.session.scalar(select(func.count(User.id))) == users


def test_demo_messages_show_notifications_support_mailings_and_reports(app, db):
    import reports.demo
    from partner_club.campaigns import demo as campaigns_demo
    from partner_club.demo import messages
    from partner_club.jobs.models import Job
    from partner_club.mailings.models import CallEntry, Mailing, MailingRecipient
    from partner_club.notifications.models import Delivery, Notification
    from partner_club.support.models import Ticket
    from reports.models import Subscription

    world = seed_demo(db.session, (campaigns_demo.seed, reports.demo.seed, messages.seed), shops=30)
    session = db.session

    def person(role):
        return session.scalars(select(User).where(User.login == world.logins[role][0])).one()

    def kinds(user, read):
        query = select(Notification.kind).where(Notification.user_id == user.id)
        return set(
            session.scalars(
                query.where(Notification.read_at.is_not(None) if read else Notification.read_at.is_(None))
            )
        )

    participant, owner, rep = person("seller"), person("owner"), person("rep")
    assert "campaign.launched" in kinds(participant, read=False) and kinds(participant, read=True)
    assert "seller.waiting" in kinds(owner, read=False) and kinds(owner, read=True)
    assert {"support.new", "support.replied"} <= kinds(rep, read=False) and kinds(rep, read=True)
    # Nothing leaves the club: no delivery queued or attempted (a mailing's left-out channels are skipped).
    assert not session.scalar(select(func.count(Job.id)))
    assert not session.scalar(select(func.count(Delivery.id)).where(Delivery.status != "skipped"))

    tickets = session.scalars(select(Ticket).order_by(Ticket.id)).all()
    assert [t.status for t in tickets] == ["resolved", "in_progress", "new"]
    assert [m.from_staff for m in tickets[1].messages] == [False, True, False]

    sent, scheduled = session.scalars(select(Mailing).order_by(Mailing.id)).all()
    recipients = session.scalar(select(func.count()).select_from(MailingRecipient))
    assert sent.status == "sent" and recipients == sent.audience > 0
    assert scheduled.status == "scheduled" and scheduled.send_at > world.now
    outcomes = session.scalars(select(CallEntry.outcome).where(CallEntry.outcome.is_not(None))).all()
    assert sorted(outcomes) == ["no_answer", "reached"]

    chosen = session.scalars(
        select(Subscription).where(Subscription.created_by_id.in_([m.id for m in world.managers]))
    ).all()
    assert {s.frequency for s in chosen} == {"weekly", "monthly"}
