"""One per-process cache helper (进程内缓存) for data read on every request and rarely changed.

A `ProcessCache` builds its value on first use and keeps it for `ttl` seconds (None: until
cleared or its revision changes). Saving or
deleting a row of one of its `models` in this process drops it at once (signals); other
processes notice changes within `ttl`, or at once when a `revision` function is given (a cheap
query, e.g. a counter row that writers bump) and its answer differs from the one the value was
built with. Thread-safe: one thread builds, the others wait for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from django.db.models.signals import post_delete, post_save

V = TypeVar("V")

_ALL: list[ProcessCache[Any]] = []


class ProcessCache(Generic[V]):
    def __init__(
        self,
        name: str,
        build: Callable[[], V],
        *,
        ttl: float | None = 30.0,
        models: Iterable[type] = (),
        revision: Callable[[], Any] | None = None,
        check_every: float = 5.0,
    ) -> None:
        self.name = name
        self.build = build
        self.ttl = ttl
        self.revision = revision
        self.check_every = check_every
        self._lock = threading.Lock()
        self._value: V | None = None
        self._built_at = 0.0
        self._checked_at = 0.0
        self._built_revision: Any = None
        self._valid = False
        for model in models:
            post_save.connect(self._on_change, sender=model, weak=False, dispatch_uid=f"cache:{name}:save")
            post_delete.connect(self._on_change, sender=model, weak=False, dispatch_uid=f"cache:{name}:delete")
        _ALL.append(self)

    def _on_change(self, **kwargs: Any) -> None:
        self.clear()

    def clear(self) -> None:
        self._valid = False

    def _fresh(self, now: float) -> bool:
        if not self._valid or (self.ttl is not None and now - self._built_at > self.ttl):
            return False
        if self.revision is not None and now - self._checked_at > self.check_every:
            self._checked_at = now
            if self.revision() != self._built_revision:
                self._valid = False  # changed elsewhere: rebuild (also for a thread waiting on the lock)
                return False
        return True

    def __call__(self) -> V:
        now = time.monotonic()
        if self._fresh(now):
            return self._value  # type: ignore[return-value]
        with self._lock:
            now = time.monotonic()
            if self._fresh(now):
                return self._value  # type: ignore[return-value]
            revision = self.revision() if self.revision is not None else None
            value = self.build()
            self._value, self._built_revision = value, revision
            self._built_at = self._checked_at = time.monotonic()
            self._valid = True
            return value


def clear_all() -> None:
    """Drop every process cache (tests, and after bulk changes made with raw SQL)."""
    for cache in _ALL:
        cache.clear()
