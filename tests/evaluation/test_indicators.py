"""Indicator formulas on hand-built histories (through the real engine) with known answers, the
facts kept by the hook equal to a rebuild, and a plain-Python reference computation over the
History rows equal to the database computation on random small histories."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest

from tests.factories import act as op
from tests.factories import report_at as report
from urbangrid.evaluation import facts
from urbangrid.evaluation.indicators import evaluate
from urbangrid.evaluation.models import CaseFact
from urbangrid.evaluation.periods import parse_period, parse_scope
from urbangrid.workflow.models import History

UTC = dt.UTC


def at(day: int, hour: int = 10, month: int = 11) -> dt.datetime:
    """A local (UTC+8) time in 2026 as UTC."""
    return dt.datetime(2026, month, day, hour, 0, tzinfo=UTC) - dt.timedelta(hours=8)


def to_handling(world, case, day, dept=None):
    op(case, "accept", world.operator, at(day, 10))
    op(case, "register", world.shift, at(day, 10) + dt.timedelta(minutes=10))
    op(
        case,
        "dispatch",
        world.dispatcher,
        at(day, 10) + dt.timedelta(minutes=20),
        department=(dept or world.sanitation).pk,
    )


def finish(world, case, when):
    op(case, "feedback", world.handler, when, result="已清运", photos=[world.photo(world.handler)])
    op(case, "send_check", world.operator, when + dt.timedelta(minutes=10))
    op(case, "check_pass", world.collector, when + dt.timedelta(minutes=20), photos=[world.photo(world.collector)])
    op(case, "close", world.shift, when + dt.timedelta(minutes=30))


def values(target, period="2026-11", scope=None, **rules):
    rows = evaluate(target, parse_period(period), parse_scope(scope) if scope else None, **rules)
    return {r["object"]["id"]: r["values"] for r in rows}


def test_loop_with_rework_extension_and_suspension(world):
    case = report(world, at(2))  # Monday 2 November
    to_handling(world, case, 2)
    due = case.deadline
    op(case, "request_extension", world.handler, at(2, 14), reason="需要采购设备", amount=2, unit="working_days")
    op(case, "approve_extension", world.dispatcher, at(2, 15))
    assert case.deadline > due
    op(case, "request_suspension", world.handler, at(2, 16), reason="等待")
    op(case, "approve_suspension", world.dispatcher, at(2, 16) + dt.timedelta(minutes=5))
    op(case, "resume", world.dispatcher, at(9, 9))  # a week suspended: not on the clock
    finish(world, case, at(9, 11))
    assert case.state == "closed"
    d = values("department")[world.sanitation.pk]
    assert (d["dept_should"], d["dept_handled"], d["dept_handled_on_time"], d["dept_closed_on_time"]) == (1, 1, 1, 1)
    assert (d["dept_extended"], d["dept_suspended"], d["dept_reworked"]) == (1, 1, 0)
    assert d["dept_on_time_handling_rate"] == 100.0 and d["dept_closure_rate"] == 100.0
    assert d["dept_composite"] == 100.0  # 0–50 cases → band 100; no rework
    # a city that counts extended cases as late
    assert values("department", EXTENDED="late")[world.sanitation.pk]["dept_handled_on_time"] == 0

    # rework: a failed check sends it back; the second round is the one that counts for handling
    case2 = report(world, at(3))
    to_handling(world, case2, 3)
    op(case2, "feedback", world.handler, at(3, 11), result="已清运", photos=[world.photo(world.handler)])
    op(case2, "send_check", world.operator, at(3, 11) + dt.timedelta(minutes=5))
    op(case2, "check_fail", world.collector, at(3, 12), reason="未清理干净", photos=[world.photo(world.collector)])
    finish(world, case2, at(3, 15))
    d = values("department")[world.sanitation.pk]
    assert (d["dept_should"], d["dept_reworked"], d["dept_rework_events"], d["dept_rework_rate"]) == (2, 1, 1, 50.0)
    # 10 % band 100 + 30 % closure 100 + 30 % on-time 100 + 30 % (100 − 50)
    assert d["dept_composite"] == 85.0
    c = values("collector")[world.collector.pk]
    assert (c["collector_reports"], c["collector_valid_reports"], c["collector_valid_rate"]) == (2, 2, 100.0)
    assert (c["collector_check_due"], c["collector_check_on_time"]) == (3, 3)
    s = values("shift_leader")[world.shift.pk]
    assert (s["shift_registered"], s["shift_accurate"], s["shift_close_due"]) == (2, 2, 2)
    assert not facts.check()


def test_suspended_case_leaves_should_handle_until_handled(world):
    case = report(world, at(2))
    to_handling(world, case, 2)
    op(case, "request_suspension", world.handler, at(2, 16), reason="等待")
    op(case, "approve_suspension", world.dispatcher, at(2, 17))
    assert world.sanitation.pk not in {k for k, v in values("department").items() if v["dept_should"]}
    assert values("department", SUSPENDED="include")[world.sanitation.pk]["dept_suspended"] == 1


def test_return_is_not_charged_and_lowers_dispatch_accuracy(world):
    case = report(world, at(4))
    to_handling(world, case, 4, dept=world.municipal)
    op(case, "request_return", world.other_handler, at(4, 11), reason="不属于我们")
    op(case, "approve_return", world.dispatcher, at(4, 12))
    op(case, "dispatch", world.dispatcher, at(4, 13), department=world.sanitation.pk)
    finish(world, case, at(4, 15))
    d = values("department")
    assert d[world.municipal.pk]["dept_should"] == 0 and d[world.municipal.pk]["dept_returned"] == 1
    assert d[world.sanitation.pk]["dept_should"] == 1 and d[world.sanitation.pk]["dept_returned"] == 0
    p = values("dispatcher")[world.dispatcher.pk]
    assert (p["dispatcher_dispatched"], p["dispatcher_accurate"], p["dispatcher_accurate_rate"]) == (2, 1, 50.0)


def test_category_corrected_at_registration_counts_under_the_new_category(world):
    case = report(world, at(5), source="hotline")
    op(case, "send_verify", world.operator, at(5, 10))
    op(case, "verify", world.collector, at(5, 11), exists=True, photos=[world.photo(world.collector)])
    op(case, "accept", world.operator, at(5, 12))
    op(case, "register", world.shift, at(5, 13), category=f"component:{world.cover.code}")
    fact = CaseFact.objects.get(case_id=case.pk)
    assert fact.category_id == world.cover.pk and fact.public
    cats = values("category")
    assert cats[world.cover.pk]["region_registered"] == 1 and world.garbage.pk not in cats
    # a public report registered in the collector's grid is a missed report (漏报)
    c = values("collector")[world.collector.pk]
    assert (c["collector_missed"], c["collector_missed_rate"], c["collector_verify_on_time"]) == (1, 100.0, 1)
    st = values("street")[world.street.pk]
    assert (st["region_registered"], st["region_public_registered"], st["region_public_rate"]) == (1, 1, 100.0)
    assert st["region_per_grid"] == 0.25 and st["region_per_km2"] == 25.0  # 4 grids of 10,000 m²


def test_case_crossing_the_month_boundary(world):
    case = report(world, at(30, 15, month=10))  # Friday 30 October
    op(case, "accept", world.operator, at(30, 15, month=10))
    op(case, "register", world.shift, at(30, 16, month=10))
    op(case, "dispatch", world.dispatcher, at(30, 16, month=10), department=world.sanitation.pk)
    assert case.deadline.astimezone(dt.timezone(dt.timedelta(hours=8))).month == 11  # 1 working day: Monday
    finish(world, case, at(2, 9))
    octo, nov = values("department", "2026-10"), values("department", "2026-11")
    assert octo.get(world.sanitation.pk, {}).get("dept_should", 0) == 0
    assert nov[world.sanitation.pk]["dept_should"] == 1 and nov[world.sanitation.pk]["dept_handled_on_time"] == 1
    assert values("street", "2026-10")[world.street.pk]["region_registered"] == 1
    assert values("street", "2026-11")[world.street.pk]["region_registered"] == 0
    # by dispatch time instead (§8.2 a): October's
    assert values("department", "2026-10", DEPARTMENT_PERIOD="dispatched")[world.sanitation.pk]["dept_should"] == 1
    assert values("department", "2026-10-30..2026-11-02")[world.sanitation.pk]["dept_closed"] == 1


def test_holiday_is_not_counted_against_the_department(world):
    from urbangrid.core.models_calendar import CalendarDay

    for d in (9, 10, 11):  # Monday–Wednesday 9–11 November off
        CalendarDay.objects.create(date=dt.date(2026, 11, d), is_working_day=False, kind="official_holiday")
    case = report(world, at(6, 9))  # Friday
    op(case, "accept", world.operator, at(6, 9))
    op(case, "register", world.shift, at(6, 9) + dt.timedelta(minutes=5))
    op(case, "dispatch", world.dispatcher, at(6, 9) + dt.timedelta(minutes=10), department=world.sanitation.pk)
    finish(world, case, at(12, 8, month=11))  # six calendar days later, within 1 working day
    d = values("department")[world.sanitation.pk]
    assert d["dept_handled_on_time"] == 1 and d["dept_handled_late"] == 0


def test_self_fix_is_counted_apart(world):
    case = report(world, at(6), category=world.flyer)
    op(case, "self_fix", world.collector, at(6, 11), photos=[world.photo(world.collector)])
    op(case, "confirm_self_fix", world.operator, at(6, 12))
    c = values("collector")[world.collector.pk]
    assert (c["collector_self_fixes"], c["collector_valid_reports"]) == (1, 1)
    assert values("collector", SELF_FIX_VALID=False)[world.collector.pk]["collector_valid_reports"] == 0
    assert all(v["dept_should"] == 0 for v in values("department").values())
    assert values("street")[world.street.pk]["region_self_fixed"] == 1


def test_satisfaction_from_return_visits_and_ratings(world):
    case = report(world, at(2))
    to_handling(world, case, 2)
    finish(world, case, at(2, 14))
    op(case, "return_visit", world.operator, at(3), outcome="dissatisfied", not_fixed=False)
    d = values("department")[world.sanitation.pk]
    assert (d["dept_visits"], d["dept_visit_satisfaction"]) == (1, 0.0)
    assert values("street")[world.street.pk]["region_visits"] == 1


# --- random histories: hook == rebuild, database == reference -----------------------------------------


def _random_cases(world, n: int, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(n):
        day = rng.choice([28, 29, 30]) if rng.random() < 0.3 else rng.randint(2, 25)
        month = 10 if day >= 28 else 11
        t = at(day, rng.randint(8, 16), month=month)
        public = rng.random() < 0.3
        case = report(world, t, source="hotline" if public else "collector", i=rng.randrange(4))
        collector = world.collector if case.work_grid_id == world.wg1.pk else world.collector2
        step = dt.timedelta(minutes=rng.choice([5, 30, 90, 600]))

        def do(name, who, case=case, step=step, **data):
            nonlocal t
            t += step
            op(case, name, who, t, **data)

        if public:
            do("send_verify", world.operator)
            do("verify", collector, exists=True, photos=[world.photo(collector)])
        if rng.random() < 0.1:
            do("reject", world.operator, reason="重复")
            continue
        do("accept", world.operator)
        if rng.random() < 0.1:
            do("not_register", world.shift, reason="不符合")
            continue
        do("register", world.shift)
        dept = rng.choice([world.sanitation, world.municipal])
        do("dispatch", world.dispatcher, department=dept.pk)
        if rng.random() < 0.15:
            do("request_return", world.handler if dept == world.sanitation else world.other_handler, reason="非我")
            do("approve_return", world.dispatcher)
            dept = world.sanitation if dept == world.municipal else world.municipal
            do("dispatch", world.dispatcher, department=dept.pk)
        handler = world.handler if dept == world.sanitation else world.other_handler
        if rng.random() < 0.1:
            do("request_void", world.dispatcher, reason="重复")
            do("approve_void", world.shift)
            continue
        if rng.random() < 0.2:
            do("request_extension", handler, reason="等", amount=1, unit="working_days")
            do("approve_extension", world.dispatcher)
        if rng.random() < 0.2:
            do("request_suspension", handler, reason="等")
            do("approve_suspension", world.dispatcher)
            if rng.random() < 0.5:
                continue
            do("resume", world.dispatcher)
        if rng.random() < 0.2:
            continue
        do("feedback", handler, result="好", photos=[world.photo(handler)])
        do("send_check", world.operator)
        if rng.random() < 0.25:
            do("check_fail", collector, reason="没好", photos=[world.photo(collector)])
            do("feedback", handler, result="好", photos=[world.photo(handler)])
            do("send_check", world.operator)
        do("check_pass", collector, photos=[world.photo(collector)])
        do("close", world.shift)


def reference_departments(period) -> dict[int, Counter]:
    """Department counters computed straight from History rows, case by case (defaults of §8.2)."""
    from urbangrid.evaluation.facts import case_content_type_id

    rows = History.objects.filter(content_type_id=case_content_type_id()).order_by("object_id", "seq")
    by_case: dict[int, list] = {}
    for h in rows:
        by_case.setdefault(h.object_id, []).append(h)
    out: dict[int, Counter] = {}
    start, end = period.start, period.end
    for hs in by_case.values():
        dept = due = handled = closed = None
        late, voided, reworks, susp = False, False, 0, 0
        for h in hs:
            if h.action in ("dispatch", "auto_dispatch", "reassign"):
                dept, due, handled, late, reworks, susp = h.payload["department"], None, None, False, 0, 0
            if h.action == "approve_return":
                dept = due = handled = None
                late, reworks, susp = False, 0, 0
            if h.action == "feedback":
                handled, late = h.created_at, late or h.overdue
            if h.action in ("check_fail", "reopen", "recheck_confirm"):
                reworks, handled = reworks + 1, None
            if h.action == "approve_suspension":
                susp += 1
            if h.action in ("close", "recheck_reject", "confirm_self_fix"):
                closed = h.created_at
            if h.action == "approve_void":
                voided = True
            if h.to_state == "handling" and h.deadline_after and dept:
                due = h.deadline_after
        if dept is None or voided:
            continue
        in_period = (due is not None and start <= due < end) or (
            due is not None and due < start and (handled is None or handled >= start)
        )
        if not in_period or (susp and (handled is None or handled >= end)):
            continue
        c = out.setdefault(dept, Counter())
        c["dept_should"] += 1
        done = handled is not None and handled < end
        c["dept_handled"] += done
        c["dept_handled_on_time"] += done and not late
        c["dept_closed"] += closed is not None and closed < end
        c["dept_reworked"] += reworks > 0
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_database_equals_reference_and_hook_equals_rebuild(world, seed):
    _random_cases(world, 40, seed)
    assert facts.check() == []  # the hook kept the facts exactly equal to the history
    before = list(CaseFact.objects.order_by("case_id").values())
    facts.rebuild()
    assert list(CaseFact.objects.order_by("case_id").values()) == before
    assert facts.check() == []
    for label in ("2026-10", "2026-11", "2026-11-01..2026-11-10", "2026-W45", "2026-Q4"):
        period = parse_period(label)
        ref = reference_departments(period)
        got = values("department", label)
        for dept_id in set(ref) | {k for k, v in got.items() if v["dept_should"]}:
            want = ref.get(dept_id, Counter())
            for key in ("dept_should", "dept_handled", "dept_handled_on_time", "dept_closed", "dept_reworked"):
                assert got[dept_id][key] == want[key], (label, dept_id, key)
    # posts: reports and registrations straight from history
    from urbangrid.cases.models import Case

    patrol = set(Case.objects.filter(source="collector").values_list("pk", flat=True))
    reports = Counter(h.actor_id for h in History.objects.filter(action="report") if h.object_id in patrol)
    year = values("collector", "2026")
    assert {k: v["collector_reports"] for k, v in year.items() if v["collector_reports"]} == dict(reports)
    regs = History.objects.filter(action="register").count()
    assert values("shift_leader", "2026")[world.shift.pk]["shift_registered"] == regs
    disp = History.objects.filter(action="dispatch").count()
    assert values("dispatcher", "2026")[world.dispatcher.pk]["dispatcher_dispatched"] == disp
    # regions: the city equals the sum of its streets, grids sum to their street
    streets = values("street", "2026")
    grids = values("unit_grid", "2026")
    assert streets[world.street.pk]["region_registered"] == sum(v["region_registered"] for v in grids.values())
    assert streets[world.street.pk]["region_reported"] == History.objects.filter(action="report").count()


def reference_regions(period, key: str) -> dict[int, Counter]:
    """Area counters straight from the CaseFact rows, one by one in Python (defaults of §8.2)."""
    start, end = period.start, period.end
    out: dict[int, Counter] = {}
    for f in CaseFact.objects.all():
        c = out.setdefault(getattr(f, key), Counter())
        c["region_reported"] += start <= f.reported_at < end
        c["region_public_reported"] += f.public and start <= f.reported_at < end
        registered = f.registered_at is not None and start <= f.registered_at < end and f.voided_at is None
        c["region_registered"] += registered
        c["region_public_registered"] += registered and f.public
        c["region_self_fixed"] += f.self_fixed_at is not None and start <= f.self_fixed_at < end
        due, handled = f.due_at, f.handled_at
        should = (
            f.department_id is not None
            and f.voided_at is None
            and due is not None
            and (start <= due < end or (due < start and (handled is None or handled >= start)))
            and (f.suspensions == 0 or (handled is not None and handled < end))
        )
        closed = should and f.closed_at is not None and f.closed_at < end
        c["region_should_close"] += should
        c["region_closed"] += closed
        c["region_closed_on_time"] += closed and not f.handled_late
    return out


@pytest.mark.parametrize("seed", [3])
def test_area_counts_equal_a_reference_and_evaluate_all_equals_evaluate(world, seed):
    from urbangrid.evaluation.indicators import Counts, evaluate_all
    from urbangrid.evaluation.periods import Scope
    from urbangrid.evaluation.rules import rules

    _random_cases(world, 40, seed)
    for i, day in enumerate((3, 9, 16)):  # handled days after their due date: carried over
        t = at(day, 9)
        case = report(world, t, source="collector", i=i)
        for k, (name, who, data) in enumerate(
            [
                ("accept", world.operator, {}),
                ("register", world.shift, {}),
                ("dispatch", world.dispatcher, {"department": world.sanitation.pk}),
            ]
        ):
            op(case, name, who, t + dt.timedelta(minutes=5 * (k + 1)), **data)
        op(case, "feedback", world.handler, t + dt.timedelta(days=9), result="好", photos=[world.photo(world.handler)])
    keys = [
        "region_reported", "region_public_reported", "region_registered", "region_public_registered",
        "region_self_fixed", "region_should_close", "region_closed", "region_closed_on_time",
    ]  # fmt: skip
    days = [f"2026-11-{d:02d}" for d in range(2, 27)]  # single days: carry-overs across midnights
    for label in ("2026-10", "2026-11", "2026-11-01..2026-11-10", *days):
        period = parse_period(label)
        for target, column in (("street", "street_id"), ("community", "community_id"), ("category", "category_id")):
            ref = reference_regions(period, column)
            got = values(target, label)
            for obj in set(ref) | set(got):
                for k in keys:
                    assert got.get(obj, {}).get(k, 0) == ref.get(obj, Counter())[k], (label, target, obj, k)
        together = evaluate_all(("collector", "dispatcher", "department", "street", "category"), period)
        for target, rows in together.items():
            assert rows == evaluate(target, period), (label, target)
        # tallied rows (SQLite's way) and GROUP BY (PostgreSQL's way) give the same counts on either database
        r, city = rules(), Scope("city")
        tallied, grouped = Counts(period, r, city, tally=True), Counts(period, r, city, tally=False)
        for group in (("department_id", "street_id"), ("category_id", "street_id"), ("unit_grid_id",)):
            assert tallied.should(group) == grouped.should(group), (label, group)
            assert tallied.reported(group[:1]) == grouped.reported(group[:1]), (label, group)
            assert tallied.self_fixed(group[:1]) == grouped.self_fixed(group[:1]), (label, group)
        for group in (("unit_grid_id",), ("category_id",)):
            assert tallied.registered(group) == grouped.registered(group), (label, group)
        assert sorted(tallied.hotspots()) == sorted(grouped.hotspots()), label
