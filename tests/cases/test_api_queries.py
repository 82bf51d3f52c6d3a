"""The API list reads a page in a fixed number of queries, whatever its length."""

from __future__ import annotations

from .test_loop import report, to_handling


def test_list_queries_do_not_grow_with_the_page(api, world, django_assert_max_num_queries):
    for i in range(3):
        to_handling(world, report(world, i=i))
    client = api(world.operator)
    with django_assert_max_num_queries(12) as few:
        assert len(client.get("/api/v1/cases?limit=50").json()["items"]) == 3
    for i in range(9):
        to_handling(world, report(world, i=i % 4))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get("/api/v1/cases?limit=50").json()["items"]) == 12
