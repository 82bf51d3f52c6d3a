"""Helpers of the engine's tests."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from urbangrid.workflow import engine

CN = ZoneInfo("Asia/Shanghai")


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    """A moment of Beijing time."""
    return datetime(y, mo, d, h, mi, s, tzinfo=CN)


def step(obj, action, actor, now, **data):
    """Perform `action` at `now` with the object's current version."""
    return engine.transition(obj, action, actor, version=obj.version, data=data, now=now)


def history(obj) -> list:
    return list(engine.history_for(obj))


def actions(obj) -> list[str]:
    return [h.action for h in engine.history_for(obj)]


def exactly(message: str) -> str:
    """A `pytest.raises(match=...)` pattern for exactly this message."""
    return "^" + re.escape(message) + "$"
