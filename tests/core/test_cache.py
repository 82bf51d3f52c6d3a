"""The one per-process cache helper (core.cache.ProcessCache)."""

from __future__ import annotations

import pytest

from urbangrid.core import cache as cache_module
from urbangrid.core.cache import ProcessCache, clear_all
from urbangrid.core.models import Department


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(cache_module.time, "monotonic", c)
    return c


def counter():
    calls = []

    def build():
        calls.append(1)
        return len(calls)

    return build, calls


def test_built_once_then_kept_until_the_ttl(clock):
    build, calls = counter()
    c = ProcessCache("t1", build, ttl=10)
    assert (c(), c(), len(calls)) == (1, 1, 1)
    clock.t += 9.9
    assert c() == 1
    clock.t += 0.2
    assert c() == 2


def test_no_ttl_keeps_the_value_until_cleared(clock):
    build, _calls = counter()
    c = ProcessCache("t2", build, ttl=None)
    assert c() == 1
    clock.t += 10**6
    assert c() == 1
    c.clear()
    assert c() == 2
    clear_all()
    assert c() == 3


def test_a_changed_revision_rebuilds_after_the_check_interval(clock):
    build, _calls = counter()
    revision = {"r": 1}
    c = ProcessCache("t3", build, ttl=None, revision=lambda: revision["r"], check_every=5)
    assert c() == 1
    revision["r"] = 2
    clock.t += 4
    assert c() == 1  # not checked yet
    clock.t += 2
    assert c() == 2
    clock.t += 6
    assert c() == 2  # checked again, unchanged


@pytest.mark.django_db
def test_saving_a_watched_model_here_clears_at_once(clock):
    c = ProcessCache("t4", lambda: Department.objects.count(), ttl=None, models=[Department])
    assert c() == 0
    Department.objects.create(code="X1", name="x")
    assert c() == 1
