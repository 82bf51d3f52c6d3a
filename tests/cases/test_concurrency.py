"""Two people act on the same case at the same moment: exactly one wins (real PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.factories import World, user
from urbangrid.cases import actions
from urbangrid.cases.models import Case, State
from urbangrid.workflow.errors import Conflict
from urbangrid.workflow.models import History


@pytest.mark.pg
@pytest.mark.django_db(transaction=True)
def test_simultaneous_operations_exactly_one_succeeds(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world = World()
    second_operator = user("operator", department=world.center, username="op2", scope_city=True)
    lon, lat = world.point()
    for round_ in range(5):
        case = actions.create_case(
            world.collector, source="collector", category=world.garbage, description=f"垃圾 {round_}", lon=lon, lat=lat
        )
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def act(who, operation, data, case_id=case.pk, version=case.version, barrier=barrier, outcomes=outcomes):
            try:
                barrier.wait(timeout=10)
                actions.perform(case_id, operation, who, version=version, data=data)
                outcomes.append(f"ok:{operation}")
            except Conflict:
                outcomes.append("conflict")
            finally:
                connection.close()

        threads = [
            threading.Thread(target=act, args=(world.operator, "accept", {})),
            threading.Thread(target=act, args=(second_operator, "reject", {"reason": "重复"})),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "ok"], outcomes
        case.refresh_from_db()
        winner = next(o for o in outcomes if o.startswith("ok")).split(":")[1]
        assert case.state == {"accept": State.ACCEPTED, "reject": State.NOT_ACCEPTED}[winner]
        assert case.version == 2
        assert History.objects.filter(object_id=case.pk).count() == 2


@pytest.mark.pg
@pytest.mark.django_db
def test_history_trigger_refuses_update_and_delete_on_postgres(world):
    from django.db import DatabaseError, transaction

    case = actions.create_case(
        world.collector,
        source="collector",
        category=world.garbage,
        description="x",
        lon=world.point()[0],
        lat=world.point()[1],
    )
    for sql in (
        "UPDATE workflow_history SET reason = 'x' WHERE object_id = %s",
        "DELETE FROM workflow_history WHERE object_id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [case.pk])
    assert Case.objects.filter(pk=case.pk).exists()


@pytest.mark.pg
@pytest.mark.django_db
def test_case_numbers_come_from_a_sequence_per_day(world):
    """The day's first report creates the day's sequence; numbers keep growing past 99999."""
    import datetime as dt

    lon, lat = world.point()
    day = dt.datetime(2031, 5, 6, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing

    def number(**kw):
        return actions.create_case(
            world.collector,
            source="collector",
            category=world.garbage,
            description="x",
            lon=lon,
            lat=lat,
            now=day,
            **kw,
        ).number

    first = number()
    assert first.endswith("2031050600001") and len(first) == 6 + 8 + 5
    with connection.cursor() as cur:
        cur.execute("SELECT setval('cases_number_20310506', 99999)")
    assert number(photos=[world.photo(world.collector)]).endswith("20310506100000")  # in a transaction too
