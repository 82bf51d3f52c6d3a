"""Background tasks of the case loop (django-tasks, database backend by default)."""

from __future__ import annotations

from django_tasks import task

from urbangrid.core.tasks import enqueue_unless_pending

from . import actions


@task()
def sweep_deadlines() -> dict[str, int]:
    """Yellow and red lights, notifications and escalation for open cases (run every minute)."""
    return actions.sweep_deadlines()


def enqueue_sweep_unless_pending() -> bool:
    """Enqueue one sweep unless one is already waiting or running."""
    return enqueue_unless_pending(sweep_deadlines)
