"""Background work for batch services (run by `urbangrid worker`)."""

from __future__ import annotations

from django_tasks import task


@task()
def create_pending_case(request_id: int) -> str:
    """Create the case of a queued Open311 request; returns its new status."""
    from .actions import create_pending

    return create_pending(request_id).status
