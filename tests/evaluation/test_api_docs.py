"""The evaluation API (registry, values, roles) and the generated indicator page."""

from __future__ import annotations

from pathlib import Path

from django.test import Client
from django.utils import translation

from urbangrid.evaluation.docs import render
from urbangrid.evaluation.indicators import REGISTRY

ROOT = Path(__file__).resolve().parents[2]


def test_indicator_page_is_not_stale():
    with translation.override("en"):
        assert (ROOT / "docs" / "indicators.md").read_text(encoding="utf-8") == render(), (
            "run `urbangrid write_indicator_docs`"
        )


def test_every_indicator_is_defined_once_with_unit_and_direction():
    codes = [i.code for i in REGISTRY]
    assert len(codes) == len(set(codes))
    assert all(i.unit and i.direction in ("higher", "lower", "neutral") and i.formula for i in REGISTRY)


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_api_registry_values_and_roles(world):
    leader = _client(world.leader)
    r = leader.get("/api/v1/evaluation/indicators?object_type=department")
    assert r.status_code == 200 and {i["object_type"] for i in r.json()} == {"department"}
    r = leader.get("/api/v1/evaluation/street?period=2026-11&scope=street:330483001")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["period"]["first"] == "2026-11-01" and body["results"][0]["object"]["code"] == "330483001"
    assert leader.get("/api/v1/evaluation/street?period=2026-13").status_code == 400
    assert leader.get("/api/v1/evaluation/planet?period=2026-11").status_code == 404
    # a department's staff see their own department only, and nothing else
    handler = _client(world.handler)
    rows = handler.get("/api/v1/evaluation/department?period=2026-11").json()["results"]
    assert {row["object"]["id"] for row in rows} == {world.sanitation.pk, world.crew.pk}  # and its sub-units
    assert handler.get("/api/v1/evaluation/street?period=2026-11").status_code == 403
    assert _client(world.collector).get("/api/v1/evaluation/department?period=2026-11").status_code in (200, 403)
