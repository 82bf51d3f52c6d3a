"""Scoring rules (weighted sums, bands, deductions, points and money per percentage point above
or below a target) with known answers, rule versions by date, publishing a month (frozen and
reproducible), corrections as new versions with a reason, and the scores API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tests.evaluation.test_indicators import at, op, report, to_handling
from urbangrid.core.models import AuditLog
from urbangrid.evaluation import publish
from urbangrid.evaluation.models import PublishedMonth, ScoringRule, ScoringTerm
from urbangrid.evaluation.scoring import rule_for, score_object, score_rows


def _defn(*terms, base="0", levels=None):
    full = []
    for t in terms:
        full.append(
            {
                "kind": "weighted",
                "label": "",
                "weight": "1",
                "invert": False,
                "missing_value": None,
                "bands": [],
                "band_mode": "at_least",
                "per_unit": "0",
                "target": None,
                "full_points": "0",
                "above": "0",
                "below": "0",
                "cap": None,
                **t,
            }
        )
    return {
        "base_points": base,
        "levels": levels or [[90, "优秀"], [80, "良好"], [60, "合格"], [0, "不合格"]],
        "terms": full,
    }


def test_weighted_sum_with_inverted_rate_and_missing_values():
    # §8.4: 立案数分值 × 10 % + 结案率 × 30 % + 按期处置率 × 30 % + (100 − 返工率) × 30 %
    d = _defn(
        {"indicator": "dept_registered_score", "weight": "0.1"},
        {"indicator": "dept_closure_rate", "weight": "0.3"},
        {"indicator": "dept_on_time_handling_rate", "weight": "0.3", "missing_value": "100"},
        {"indicator": "dept_rework_rate", "weight": "0.3", "invert": True},
    )
    s = score_object(
        d,
        {
            "dept_registered_score": 100,
            "dept_closure_rate": 90.0,
            "dept_on_time_handling_rate": None,
            "dept_rework_rate": 50.0,
        },
    )
    assert s["score"] == 10 + 27 + 30 + 15 == 82.0 and s["level"] == "良好"
    assert [t["points"] for t in s["terms"]] == [10.0, 27.0, 30.0, 15.0]
    # a missing value gives 0 points, unless the term says what it counts as (here: 100 → 30)
    assert score_object(d, {"dept_registered_score": 100})["score"] == 10 + 30


def test_band_tables_at_least_and_at_most():
    at_least = _defn(
        {"kind": "band", "indicator": "dept_closure_rate", "bands": [[90, 20], [95, 30], [80, 10], [0, 0]]}
    )
    assert [score_object(at_least, {"dept_closure_rate": v})["score"] for v in (99.5, 95, 94.99, 85, 10)] == [
        30,
        30,
        20,
        10,
        0,
    ]
    # §8.4 立案数分值 as a band on the count: 0–50 → 100; 51–100 → 90; … > 1000 → 0 (weight 0.1)
    at_most = _defn(
        {
            "kind": "band",
            "band_mode": "at_most",
            "indicator": "dept_should",
            "weight": "0.1",
            "bands": [[50, 100], [100, 90], [200, 75], [500, 60], [1000, 40]],
        }
    )
    assert [score_object(at_most, {"dept_should": n})["score"] for n in (0, 50, 51, 1000, 1001)] == [10, 10, 9, 4, 0]


def test_deductions_per_count_with_a_limit():
    # 金华: −0.2 per case sent back after a failed check, at most the 5 points of the item
    d = _defn({"kind": "deduction", "indicator": "dept_reworked", "per_unit": "0.2", "cap": "5"}, base="5")
    assert score_object(d, {"dept_reworked": 3})["score"] == 4.4
    assert score_object(d, {"dept_reworked": 40})["score"] == 0.0


def test_points_per_percentage_point_below_and_above_a_target():
    # 金华: 按期结案率 ≥ 70 % → full 50 points, −1 per percentage point below
    d = _defn(
        {
            "kind": "target",
            "indicator": "dept_on_time_closure_rate",
            "target": "70",
            "full_points": "50",
            "below": "1",
            "cap": "50",
        }
    )
    assert score_object(d, {"dept_on_time_closure_rate": 65.5})["score"] == 45.5
    assert score_object(d, {"dept_on_time_closure_rate": 88})["score"] == 50.0
    assert score_object(d, {"dept_on_time_closure_rate": 2})["score"] == 0.0  # never below 0
    bonus = _defn(
        {
            "kind": "target",
            "indicator": "dept_closure_rate",
            "target": "90",
            "full_points": "20",
            "above": "0.5",
            "below": "1",
        }
    )
    assert score_object(bonus, {"dept_closure_rate": 96})["score"] == 23.0


def test_money_per_percentage_point_above_and_below_the_target():
    # 50 yuan to the street chief for each point above the target, 50 less for each point below
    d = _defn(
        {"indicator": "region_closure_rate"},
        {"kind": "money", "indicator": "region_closure_rate", "target": "95", "above": "50", "below": "50"},
    )
    assert score_object(d, {"region_closure_rate": 99.53})["money"] == 226.5
    assert score_object(d, {"region_closure_rate": 93})["money"] == -100.0
    assert score_object(d, {"region_closure_rate": None})["money"] == 0.0
    on_score = _defn(
        {"indicator": "region_composite"},
        {"kind": "money", "indicator": "score", "target": "80", "above": "10", "below": "20", "cap": "150"},
    )
    assert score_object(on_score, {"region_composite": 85.5})["money"] == 55.0
    assert score_object(on_score, {"region_composite": 60})["money"] == -150.0  # limited


def test_ranks_share_ties_and_follow_scores():
    d = _defn({"indicator": "region_composite"})
    rows = score_rows(
        d,
        [
            {"object": {"id": i, "code": f"S{i}", "name": ""}, "values": {"region_composite": v}}
            for i, v in enumerate([70, 85, 90, 85])
        ],
    )
    assert [(r["object"]["code"], r["rank"]) for r in rows] == [("S2", 1), ("S1", 2), ("S3", 2), ("S0", 4)]
    assert [r["level"] for r in rows] == ["优秀", "良好", "良好", "合格"]


def _rule(object_type, valid_from, name="考核办法", **kw):
    return ScoringRule.objects.create(object_type=object_type, name=name, valid_from=valid_from, **kw)


def test_rule_version_in_force_on_the_first_day_of_the_month(db):
    v1 = _rule("street", dt.date(2026, 1, 1))
    v2 = _rule("street", dt.date(2026, 12, 1))
    assert (v1.version, v2.version) == (1, 2)
    assert rule_for("street", dt.date(2026, 11, 1)) == v1
    assert rule_for("street", dt.date(2026, 12, 1)) == v2
    assert rule_for("street", dt.date(2025, 12, 1)) is None
    v3 = _rule("street", dt.date(2026, 11, 1))  # a later version for November
    assert rule_for("street", dt.date(2026, 11, 1)) == v3
    _rule("street", dt.date(2026, 11, 1), active=False)  # inactive versions never apply
    assert rule_for("street", dt.date(2026, 11, 1)) == v3
    assert rule_for("department", dt.date(2026, 11, 1)) is None


def test_terms_are_validated_against_the_registry(db):
    rule = _rule("department", dt.date(2026, 1, 1))
    with pytest.raises(ValidationError) as e:
        ScoringTerm(rule=rule, kind="weighted", indicator="region_closure_rate").full_clean()
    assert "indicator" in e.value.message_dict
    with pytest.raises(ValidationError) as e:
        ScoringTerm(rule=rule, kind="band", indicator="dept_should", bands=[[1]]).full_clean()
    assert "bands" in e.value.message_dict
    with pytest.raises(ValidationError) as e:
        ScoringTerm(rule=rule, kind="money", indicator="score").full_clean()
    assert "target" in e.value.message_dict
    ScoringTerm(rule=rule, kind="money", indicator="score", target=Decimal(80)).full_clean()


# --- a month through the real engine ---------------------------------------------------------------


def feedback_and_close(world, case, when, handler):
    op(case, "feedback", handler, when, result="已处理", photos=[world.photo(handler)])
    op(case, "send_check", world.operator, when + dt.timedelta(minutes=10))
    op(case, "check_pass", world.collector, when + dt.timedelta(minutes=20), photos=[world.photo(world.collector)])
    op(case, "close", world.shift, when + dt.timedelta(minutes=30))


def november(world):
    """Three collector reports of garbage in grid 0 (two closed on time, one left open and
    overdue: sanitation); a hotline report of a manhole cover closed by the municipal department;
    one flyer fixed on the spot."""
    for day in (2, 3):
        c = report(world, at(day))
        to_handling(world, c, day)
        feedback_and_close(world, c, at(day, 14), world.handler)
    c = report(world, at(4))
    to_handling(world, c, 4)
    c = report(world, at(5), source="hotline", category=world.cover, i=1)
    op(c, "send_verify", world.operator, at(5, 10))
    op(c, "verify", world.collector, at(5, 11), exists=True, photos=[world.photo(world.collector)])
    op(c, "accept", world.operator, at(5, 12))
    op(c, "register", world.shift, at(5, 12) + dt.timedelta(minutes=5))
    op(c, "dispatch", world.dispatcher, at(5, 12) + dt.timedelta(minutes=10), department=world.municipal.pk)
    feedback_and_close(world, c, at(5, 13), world.other_handler)
    c = report(world, at(6), by=world.collector2, category=world.flyer, i=2)
    op(c, "self_fix", world.collector2, at(6, 11), photos=[world.photo(world.collector2)])
    op(c, "confirm_self_fix", world.operator, at(6, 12))


def department_rule(valid_from=dt.date(2026, 1, 1), closure_weight="0.5"):
    rule = _rule("department", valid_from, name="部门考核")
    terms = [
        dict(kind="weighted", indicator="dept_closure_rate", weight=Decimal(closure_weight), missing_value=100),
        dict(kind="weighted", indicator="dept_on_time_handling_rate", weight=Decimal("0.5"), missing_value=100),
        dict(kind="deduction", indicator="dept_overdue_open", per_unit=Decimal(2)),
        dict(kind="money", indicator="dept_on_time_closure_rate", target=Decimal(90), above=50, below=50),
    ]
    for i, t in enumerate(terms):
        ScoringTerm.objects.create(rule=rule, order=i, **t)
    return rule


def _by_code(results):
    return {r["object"]["code"]: r for r in results}


def test_month_scores_with_known_answers(world):
    november(world)
    department_rule()
    s = publish.scores("2026-11", "department")
    assert s["published"] is None and s["rule"]["version"] == 1
    rows = _by_code(s["results"])
    # sanitation: 3 due, 2 closed on time, 1 open and overdue: 66.67 × 0.5 + 66.67 × 0.5 − 2
    hw = rows["HW"]
    assert (hw["score"], hw["rank"], hw["level"], hw["money"]) == (64.67, 4, "合格", -1166.5)
    assert (rows["SZ"]["score"], rows["SZ"]["money"], rows["SZ"]["rank"]) == (100.0, 500.0, 1)
    assert rows["HW1"]["rank"] == rows["JD001"]["rank"] == 1 and rows["HW1"]["money"] == 0.0


def test_published_month_is_frozen_and_reproducible(world):
    november(world)
    rule = department_rule()
    leader = world.leader
    pm = publish.publish_month("2026-11", "department", leader)
    frozen = [dict(r) for r in pm.results]
    assert pm.version == 1 and pm.rule == rule and rule.locked
    assert _by_code(pm.inputs and [{"object": i["object"]} for i in pm.inputs])["HW"]
    assert AuditLog.objects.filter(action="evaluation.publish", object_id=str(pm.pk)).exists()

    # a year later: the rule changed (a new version, dated later) and history changed the live values
    department_rule(valid_from=dt.date(2026, 12, 1), closure_weight="0.9")
    late = report(world, at(10))
    to_handling(world, late, 10)  # another sanitation case in November, never handled
    live = publish.compute("2026-11", "department")
    assert live["rule"]["version"] == rule.version  # November keeps its rule version
    assert _by_code(live["results"])["HW"]["score"] != _by_code(frozen)["HW"]["score"]
    assert publish.compute("2026-12", "department")["rule"]["version"] == 2

    pm = PublishedMonth.objects.get(pk=pm.pk)
    assert publish.scores("2026-11", "department")["results"] == frozen  # read from the snapshot
    assert publish.recompute(pm) == frozen  # stored inputs + stored definition
    assert publish.recompute(pm, from_rule_row=True) == frozen  # the rule version's rows, unchanged
    assert publish.scores("2026-11", "department")["published"]["version"] == 1


def test_corrections_are_new_versions_with_a_reason(world):
    november(world)
    department_rule()
    v1 = publish.publish_month("2026-11", "department", world.leader)
    with pytest.raises(publish.ScoringError):
        publish.publish_month("2026-11", "department", world.leader)
    with pytest.raises(publish.ScoringError):
        publish.correct_month("2026-11", "department", world.leader, "  ")
    with pytest.raises(publish.ScoringError):
        publish.correct_month("2026-10", "department", world.leader, "not published")
    v2 = publish.correct_month(
        "2026-11",
        "department",
        world.leader,
        "井盖案件责任单位认定有误，按复核结果更正",
        adjustments={world.sanitation.pk: {"dept_overdue_open": 0}},
    )
    assert (v2.version, v2.reason) == (2, "井盖案件责任单位认定有误，按复核结果更正")
    assert PublishedMonth.objects.filter(period="2026-11", object_type="department").count() == 2
    assert publish.current("2026-11", "department") == v2
    assert _by_code(v1.results)["HW"]["score"] == 64.67 and _by_code(v2.results)["HW"]["score"] == 66.67
    s = publish.scores("2026-11", "department")
    assert s["published"]["version"] == 2 and s["published"]["reason"] == v2.reason
    assert publish.recompute(v2) == v2.results and publish.recompute(v1) == v1.results
    log = AuditLog.objects.get(action="evaluation.correct", object_id=str(v2.pk))
    assert log.data["reason"] == v2.reason and log.data["previous"] == v1.pk
    with pytest.raises(publish.ScoringError):
        publish.correct_month(
            "2026-11", "department", world.leader, "x", adjustments={world.sanitation.pk: {"nope": 1}}
        )
    with pytest.raises(publish.ScoringError):
        publish.correct_month("2026-11", "department", world.leader, "x", adjustments={-1: {"dept_should": 1}})
    with pytest.raises(publish.ScoringError):
        publish.publish_month("2026-Q4", "department", world.leader)


def test_locked_rule_is_read_only_in_the_admin(world):
    from django.contrib.admin.sites import site

    from urbangrid.evaluation.models import ScoringRule as Rule

    november(world)
    rule = department_rule()
    admin = site._registry[Rule]
    request = type("R", (), {"user": world.leader})()
    assert not rule.locked
    publish.publish_month("2026-11", "department", world.leader)
    assert rule.locked and not admin.has_change_permission(request, rule)


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_scores_api_publish_and_correct(world):
    november(world)
    department_rule()
    leader = _client(world.leader)
    r = leader.get("/api/v1/evaluation/scores?period=2026-11&object_type=department")
    assert r.status_code == 200 and r.json()["published"] is None
    assert _by_code(r.json()["results"])["HW"]["score"] == 64.67
    assert leader.get("/api/v1/evaluation/scores?period=2026-11&object_type=planet").status_code == 404
    assert leader.get("/api/v1/evaluation/scores?period=2026-13&object_type=department").status_code == 400
    body = {"period": "2026-11", "object_type": "department"}
    # the dispatcher sees scores but does not publish; a department's staff see neither
    assert (
        _client(world.dispatcher).post("/api/v1/evaluation/scores/publish", body, "application/json").status_code == 403
    )
    # a department's handler sees their own department's row (its rank among all), nothing else
    handler = _client(world.handler)
    own = handler.get("/api/v1/evaluation/scores?period=2026-11&object_type=department").json()["results"]
    assert [(r["object"]["code"], r["rank"]) for r in own] == [("HW1", 1), ("HW", 4)]
    assert handler.get("/api/v1/evaluation/scores?period=2026-11&object_type=street").status_code == 403
    # a month is published once it is over (test_scores_page.py): publish October
    body["period"] = "2026-10"
    r = leader.post("/api/v1/evaluation/scores/publish", body, "application/json")
    assert r.status_code == 200, r.content
    assert r.json()["published"]["version"] == 1
    assert leader.post("/api/v1/evaluation/scores/publish", body, "application/json").status_code == 409
    r = leader.post("/api/v1/evaluation/scores/publish", {**body, "reason": "复核更正"}, "application/json")
    assert r.status_code == 200 and r.json()["published"] == {
        **r.json()["published"],
        "version": 2,
        "reason": "复核更正",
    }
    versions = leader.get("/api/v1/evaluation/scores/versions?period=2026-10&object_type=department").json()
    assert [v["version"] for v in versions] == [1, 2] and versions[1]["reason"] == "复核更正"
    r = leader.post("/api/v1/evaluation/scores/publish", {**body, "period": "2026-02"}, "application/json")
    assert r.status_code == 200  # the rule of 2026-01-01 applies to February too
    assert (
        leader.post("/api/v1/evaluation/scores/publish", {**body, "period": "2025-11"}, "application/json").status_code
        == 400
    )


def test_admin_pages_open(world):
    from tests.factories import user

    admin_user = user(username="root", is_superuser=True, is_staff=True)
    c = _client(admin_user)
    rule = department_rule()
    assert c.get("/admin/evaluation/scoringrule/add/").status_code == 200
    assert c.get(f"/admin/evaluation/scoringrule/{rule.pk}/change/").status_code == 200
    r = c.get("/admin/evaluation/bulletintemplate/add/")
    assert r.status_code == 200 and "《数字城管》通报" in r.content.decode()
    assert c.get("/admin/evaluation/publishedmonth/").status_code == 200
