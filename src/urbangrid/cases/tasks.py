"""Background tasks of the case loop (django-tasks, database backend by default)."""

from __future__ import annotations

from django_tasks import task

from . import actions


@task()
def sweep_deadlines() -> dict[str, int]:
    """Yellow and red lights, notifications and escalation for open cases (run every minute)."""
    return actions.sweep_deadlines()


def enqueue_sweep_unless_pending() -> bool:
    """Enqueue one sweep unless one is already waiting or running (several workers may call this)."""
    from django_tasks_db.models import DBTaskResult

    path = f"{sweep_deadlines.func.__module__}.{sweep_deadlines.func.__name__}"
    if DBTaskResult.objects.filter(task_path=path, status__in=["READY", "RUNNING"]).exists():
        return False
    sweep_deadlines.enqueue()
    return True
