"""Background delivery of notifications (django-tasks; `urbangrid worker` runs it)."""

from __future__ import annotations

from django_tasks import task

from . import outbox


@task()
def deliver_due() -> dict[str, int]:
    """Send the deliveries that are due, retrying failed ones with backoff (outbox.py)."""
    return outbox.sweep()
