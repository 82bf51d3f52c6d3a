"""Helpers for background tasks (django-tasks, database backend by default)."""

from __future__ import annotations

from typing import Any


def enqueue_unless_pending(task: Any) -> bool:
    """Enqueue `task` unless it is already waiting or running (several workers may call this)."""
    from django_tasks_db.models import DBTaskResult

    path = f"{task.func.__module__}.{task.func.__name__}"
    if DBTaskResult.objects.filter(task_path=path, status__in=["READY", "RUNNING"]).exists():
        return False
    task.enqueue()
    return True
