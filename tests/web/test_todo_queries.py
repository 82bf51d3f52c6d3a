"""A to-do page reads only the states its user can hold (from the loop's holders and approvals)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.cases.test_loop import report, to_handling


def test_a_handlers_todo_reads_only_handling(world, client):
    to_handling(world, report(world))
    client.force_login(world.handler)
    with CaptureQueriesContext(connection) as ctx:
        body = client.get("/todo/").content.decode()
    assert 'data-testid="case-row"' in body
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    for state in ("reported", "accepted", "registered", "checking", "feedback", "pending_close", "verifying"):
        assert f"'{state}'" not in sql, state
