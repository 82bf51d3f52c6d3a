"""Background tasks of the evaluation (django-tasks)."""

from __future__ import annotations

from django_tasks import task

from urbangrid.core.tasks import enqueue_unless_pending

from . import stored


@task()
def refresh_evaluations() -> int:
    """The department evaluation of this month and last month, of the city and each street, stored
    for the dashboards."""
    return stored.refresh_current()


def enqueue_refresh_unless_pending() -> bool:
    """Enqueue one refresh unless one is already waiting or running."""
    return enqueue_unless_pending(refresh_evaluations)
