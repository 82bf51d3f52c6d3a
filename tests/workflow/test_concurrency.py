"""Two actors at the same moment on PostgreSQL: exactly one wins."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.factories import department, user
from tests.workflow.toy.models import Ticket
from tests.workflow.util import at
from urbangrid.core.roles import RoleCode as R
from urbangrid.workflow import engine
from urbangrid.workflow.errors import Conflict
from urbangrid.workflow.models import History


@pytest.mark.pg
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_step", [True, False])
def test_two_actors_at_once_exactly_one_wins(same_step):
    dept = department()
    a, b = user(R.HANDLER, department=dept), user(R.HANDLER, department=dept)
    leader = user(R.LEADER, scope_city=True)
    dispatcher = user(R.DISPATCHER, scope_city=True)
    t = Ticket(kind="general")
    engine.create(t, "report", user(R.COLLECTOR), data={"title": "x"}, now=at(2026, 10, 12, 9))
    engine.transition(t, "dispatch", dispatcher, version=1, data={"department": dept.pk}, now=at(2026, 10, 12, 9))
    jobs = (
        [(a, "suspend", {"reason": "a"}), (b, "suspend", {"reason": "b"})]
        if same_step
        else [(a, "suspend", {"reason": "a"}), (leader, "urge", {"note": "b"})]
    )
    barrier = threading.Barrier(2)
    results: dict[int, object] = {}

    def run(i, actor, action, data):
        try:
            copy = Ticket.objects.get(pk=t.pk)  # each reads version 2 on its own connection
            barrier.wait(timeout=10)
            results[i] = engine.transition(copy, action, actor, version=2, data=data, now=at(2026, 10, 12, 10))
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, *job)) for i, job in enumerate(jobs)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    wins = [r for r in results.values() if isinstance(r, History)]
    losses = [r for r in results.values() if isinstance(r, Conflict)]
    assert (len(wins), len(losses)) == (1, 1), results
    assert losses[0].status == 409
    assert "version 3, you had 2" in losses[0].message
    entries = list(engine.history_for(t))
    assert [h.seq for h in entries] == [1, 2, 3]
    assert entries[2].action == wins[0].action and entries[2].prev_hash == entries[1].hash
    t.refresh_from_db()
    assert t.version == 3
