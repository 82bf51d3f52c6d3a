"""The SQL statements a step costs, pinned: a new query per step (a hash read, a lookup repeated
per holder, a savepoint) fails here first. Measured on the case loop's first four steps, the
representative path of every case (report, accept, register, dispatch), with the evaluation
facts hook disconnected (its statements are the evaluation app's own budget) and one sender.

Inside the test's transaction a step's BEGIN/COMMIT are a SAVEPOINT/RELEASE pair, and the
after-commit wake of the delivery task does not run (it costs at most one look per second per
process, `notify.outbox.wake`)."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db import connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from tests.factories import World
from urbangrid.cases import actions
from urbangrid.workflow.models import History

#: per step: the statements, as "<verb> <table>" (savepoints as "SAVEPOINT"/"RELEASE")
EXPECTED = {
    "report": [
        "SAVEPOINT",  # create_case's transaction (the engine joins it without a savepoint of its own)
        "UPDATE cases_casecounter",  # the case number (PostgreSQL: a sequence, counted as this)
        "INSERT cases_case",
        "INSERT workflow_history",  # hash of an entry with no predecessor: nothing read
        "INSERT workflow_notification",  # the operators: city-wide role users, no query
        "INSERT notify_delivery",
        "RELEASE",
    ],
    "accept": [
        "SAVEPOINT",
        "SELECT workflow_history",  # the creation entry's hash (the one step that reads it)
        "UPDATE cases_case",
        "INSERT workflow_history",
        "INSERT workflow_notification",
        "INSERT notify_delivery",
        "RELEASE",
    ],
    "register": [
        "SAVEPOINT",
        "UPDATE cases_case",  # carries the new last_hash: no hash read
        "INSERT workflow_history",
        "SELECT cases_dispatchrule",  # the loop's automatic dispatch looks for a rule
        "INSERT workflow_notification",
        "INSERT notify_delivery",
        "RELEASE",
    ],
    "dispatch": [
        "SAVEPOINT",
        "SELECT core_department",  # the department input, looked up in the actor's scope
        "UPDATE cases_case",
        "INSERT workflow_history",
        "SELECT core_user",  # the department's handlers
        "INSERT workflow_notification",
        "INSERT notify_delivery",
        "RELEASE",
    ],
}

_TABLE = re.compile(r'^\s*(SELECT|INSERT|UPDATE|DELETE)\b.*?(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.S)


def _shape(sql: str) -> str:
    head = sql.lstrip().split(None, 1)[0].upper()
    if head in ("SAVEPOINT", "RELEASE"):
        return head
    if "urbangrid_case_number(" in sql:  # PostgreSQL's number of the day (a sequence)
        return "UPDATE cases_casecounter"
    if head == "UPDATE":
        return "UPDATE " + sql.split(None, 2)[1].strip('"')
    m = _TABLE.match(sql)
    return f"{m.group(1)} {m.group(2)}" if m else sql[:40]


@pytest.fixture
def no_facts_hook():
    assert post_save.disconnect(sender=History, dispatch_uid="evaluation_facts")
    yield
    apps.get_app_config("evaluation").ready()  # connects it again (same dispatch_uid)


def _loop(world, capture: bool) -> dict[str, list[str]]:
    steps: dict[str, list[str]] = {}
    lon, lat = world.point(0)

    def run(name, call):
        with CaptureQueriesContext(connection) as q:
            result = call()
        if capture:
            steps[name] = [_shape(x["sql"]) for x in q.captured_queries]
        return result

    case = run(
        "report",
        lambda: actions.create_case(
            world.collector, source="collector", category=world.garbage, description="路边有垃圾堆", lon=lon, lat=lat
        ),
    )
    run("accept", lambda: actions.perform(case, "accept", world.operator, version=case.version))
    run("register", lambda: actions.perform(case, "register", world.shift, version=case.version))
    run(
        "dispatch",
        lambda: actions.perform(
            case, "dispatch", world.dispatcher, version=case.version, data={"department": case.suggested_department_id}
        ),
    )
    assert case.state == "handling" and case.version == 4
    return steps


def test_statements_per_step_of_the_case_loop(db, settings, tmp_path, no_facts_hook):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.URBANGRID_NOTIFY_SENDERS = ["log"]
    world = World()
    _loop(world, capture=False)  # warm the per-process caches (content types, role users)
    assert _loop(world, capture=True) == EXPECTED


def test_the_chain_needs_no_read_after_the_second_step(db, settings, tmp_path, no_facts_hook):
    """The row's last_hash is the hash of its latest entry: the chain stays intact."""
    from urbangrid.workflow.integrity import verify_chains

    settings.MEDIA_ROOT = tmp_path / "media"
    world = World()
    _loop(world, capture=False)
    result = verify_chains()
    assert result.broken is None and result.checked == 4
    from urbangrid.cases.models import Case

    case = Case.objects.get()
    assert case.last_hash == History.objects.get(object_id=case.pk, seq=4).hash
