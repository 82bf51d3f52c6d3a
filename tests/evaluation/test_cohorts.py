"""Cohort counts (evaluation/cohorts.py) and stored evaluations (evaluation/stored.py): the
dashboards' pre-aggregates. The cohort counts must equal a GROUP BY over the facts after any
sequence of steps; the dashboards must count the same from them as from the facts."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from tests.evaluation.test_indicators import _random_cases, at, finish, report, to_handling
from urbangrid.dashboard import data
from urbangrid.dashboard.access import Viewer
from urbangrid.evaluation import cohorts, facts, stored
from urbangrid.evaluation.models import COHORT_COUNTERS, CohortCount, StoredEvaluation
from urbangrid.evaluation.periods import Scope, parse_period, parse_scope


def _stored_rows() -> list[tuple]:
    return sorted(CohortCount.objects.exclude(collected=0).values_list(*cohorts.KEY_FIELDS, *COHORT_COUNTERS))


def test_one_case_moves_through_its_cohort(world):
    case = report(world, at(2, 9))
    total = CohortCount.objects.filter(dim="t")
    assert list(total.values_list("day", "collected", "dispatched", "closed")) == [(dt.date(2026, 11, 2), 1, 0, 0)]
    to_handling(world, case, 2)
    row = total.get(collected=1)  # now under the charged department
    assert (row.department_id, row.dispatched, row.closed) == (world.sanitation.pk, 1, 0)
    assert total.exclude(pk=row.pk).filter(collected__gt=0).count() == 0  # moved, not copied
    finish(world, case, at(2, 15))
    row.refresh_from_db()
    assert (row.dispatched, row.closed, row.closed_dispatched, row.closed_on_time) == (1, 1, 1, 1)
    by_key = {r.dim: r.key for r in CohortCount.objects.filter(collected=1)}
    assert row.work_grid_id == case.work_grid_id
    assert by_key == {
        "t": "",
        "o": case.source,
        "k": str(case.category_id),
        "r": str(case.reported_by_id),
    }
    assert facts.check() == []


@pytest.mark.parametrize("seed", [3, 4])
def test_hook_equals_rebuild_and_dashboards_count_the_same(world, seed, settings):
    _random_cases(world, 40, seed)
    assert CohortCount.objects.filter(dim="t").count() > 1
    assert facts.check() == []  # includes cohorts.check(): the hook kept them equal to the facts
    before = _stored_rows()
    facts.rebuild()
    assert _stored_rows() == before

    # every dashboard count from the cohort counts equals the count from the facts
    street = Scope("street", world.street.code, world.street.pk)
    community = parse_scope(f"community:{world.community.code}")
    work_grid = parse_scope(f"work_grid:{world.wg1.code}")
    viewers = [Viewer(None), Viewer(frozenset({world.sanitation.pk}), world.sanitation.pk)]
    groupings = [(), "day", "street_id", "community_id", "work_grid_id", "department_id", ("day", "key")]
    for extended in ("on_time", "late"):
        settings.URBANGRID = {**settings.URBANGRID, "EVALUATION": {"EXTENDED": extended}}
        for label in ("2026-10", "2026-11", "2026-11-03..2026-11-12", "2026"):
            p = parse_period(label)
            for scope, viewer, dim, by in itertools.product(
                (Scope("city"), street, community, work_grid), viewers, "tokr", groupings
            ):
                frame = data.Frame(viewer, scope)
                if dim == "t" and "key" in by:
                    continue
                cube = data.cohort(frame, p, by, dim)
                assert cube == data.cohort(frame, p, by, dim, facts=True), (label, scope, viewer, dim, by)
        assert data.cohort(data.Frame(Viewer(None), Scope("city")), parse_period("2026"))[None]["collected"] == 40


def test_check_finds_a_wrong_cohort_count(world):
    case = report(world, at(2, 9))
    to_handling(world, case, 2)
    assert cohorts.check() == []
    CohortCount.objects.filter(dim="k", collected=1).update(dispatched=5)
    problems = cohorts.check()
    assert len(problems) == 1 and "cohort count k" in problems[0] and "stored (1, 0, 5" in problems[0]
    assert facts.check() == problems
    facts.rebuild()
    assert facts.check() == []


# --- stored evaluations ------------------------------------------------------------------------------


def test_stored_evaluation_is_reused_until_it_is_too_old(world, settings):
    settings.URBANGRID_EVALUATION_MAX_AGE = 600
    month, city = parse_period("2026-11"), Scope("city")
    case = report(world, at(2, 9))
    to_handling(world, case, 2)
    rows, at1 = stored.evaluation("department", month, city)
    should = {r["object"]["id"]: r["values"]["dept_should"] for r in rows}
    assert should[world.sanitation.pk] == 1 and at1 is not None
    assert StoredEvaluation.objects.get().rows == rows

    second = report(world, at(3, 9))
    to_handling(world, second, 3)
    again, at2 = stored.evaluation("department", month, city)
    assert (again, at2) == (rows, at1)  # young enough: the stored rows, with their time
    later, at3 = stored.evaluation("department", month, city, now=at1 + dt.timedelta(seconds=601))
    assert at3 > at1
    assert {r["object"]["id"]: r["values"]["dept_should"] for r in later}[world.sanitation.pk] == 2
    assert StoredEvaluation.objects.count() == 1  # replaced, not added

    # other counting rules: computed again at once
    settings.URBANGRID = {**settings.URBANGRID, "EVALUATION": {"EXTENDED": "late"}}
    _rows, at4 = stored.evaluation("department", month, city, now=at3)
    assert at4 > at3

    # max age 0: always computed, nothing stored
    settings.URBANGRID_EVALUATION_MAX_AGE = 0
    StoredEvaluation.objects.all().delete()
    live, when = stored.evaluation("department", month, city)
    assert when is None and not StoredEvaluation.objects.exists()
    assert {r["object"]["id"]: r["values"]["dept_should"] for r in live}[world.sanitation.pk] == 2


def test_worker_refreshes_this_months_department_evaluations(world, settings):
    from urbangrid.evaluation.tasks import enqueue_refresh_unless_pending, refresh_evaluations
    from urbangrid.geo.models import AdminDivision

    settings.URBANGRID_EVALUATION_MAX_AGE = 600
    old = StoredEvaluation.objects.create(
        object_type="department",
        period="2026-01",
        first=dt.date(2026, 1, 1),
        last=dt.date(2026, 1, 31),
        scope="city",
        counting_rules={},
        rows=[],
        computed_at=timezone.now() - dt.timedelta(days=2),
    )
    streets = AdminDivision.objects.filter(level="street").count()
    assert refresh_evaluations.call() == 2 * (1 + streets)  # this month and last month
    scopes = set(StoredEvaluation.objects.values_list("scope", flat=True))
    assert scopes == {"city"} | {
        f"street:{c}" for c in AdminDivision.objects.filter(level="street").values_list("code", flat=True)
    }
    assert set(StoredEvaluation.objects.values_list("object_type", flat=True)) == {"department"}
    assert not StoredEvaluation.objects.filter(pk=old.pk).exists()  # a day old: dropped
    today = timezone.localdate()
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    for month in (f"{today:%Y-%m}", f"{last_month:%Y-%m}"):
        assert StoredEvaluation.objects.filter(period=month).count() == len(scopes)
    assert enqueue_refresh_unless_pending() is True
