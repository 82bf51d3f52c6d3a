"""The outbox (发件箱): every notification becomes one `Delivery` per configured sender, written
in the same transaction as the notification; after the commit a background task
(`tasks.deliver_due`, run by `urbangrid worker`) sends what is due. A failed send is tried again
with exponential backoff until URBANGRID_NOTIFY_MAX_ATTEMPTS, then marked failed. A workflow step
never waits for a sender and never fails because of one."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import conf
from .models import Delivery
from .senders import Message, Sender
from .subjects import is_urgent, object_path, subjects

logger = logging.getLogger("urbangrid.notify")

#: how long a worker owns a delivery it is sending (another worker skips it meanwhile)
LEASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)


# --- queueing (inside the step's transaction) -------------------------------------------------


def on_notified(sender: Any, notifications: list[Any], **kwargs: Any) -> None:
    """Receiver of `workflow.holders.notified`: never lets an error reach the step."""
    try:
        with transaction.atomic():  # a savepoint: a failure here leaves the step intact
            queue(notifications)
    except Exception:
        logger.exception("could not queue %d notification(s) for delivery", len(notifications))


def queue(notifications: list[Any], now: datetime | None = None) -> int:
    """Outbox rows for `notifications` (saved, with their users); the send task is enqueued
    after the commit."""
    configured = conf.senders()
    if not configured:
        return 0
    now = now or timezone.now()
    rows = [
        Delivery(notification_id=n.pk, sender=name, next_try=now)
        for n in notifications
        if n.pk is not None
        for name, sender in configured.items()
        if sender.accepts(n.user)
    ]
    Delivery.objects.bulk_create(rows)
    if rows:
        transaction.on_commit(enqueue_sweep)
    return len(rows)


# --- the background task's side ------------------------------------------------------------------


def _task_path() -> str:
    from .tasks import deliver_due

    return deliver_due.module_path


def enqueue_sweep(at: datetime | None = None) -> bool:
    """Enqueue `deliver_due` (at `at`, or now) unless a waiting one will run by then."""
    from .tasks import deliver_due

    try:
        backend = deliver_due.get_backend()
        if at is not None and not backend.supports_defer:
            return False  # retried by the next sweep (worker) or `urbangrid send_notifications`
        if type(backend).__module__.startswith("django_tasks_db"):
            from django_tasks_db.models import DBTaskResult

            by = at or timezone.now()
            waiting = DBTaskResult.objects.filter(task_path=_task_path(), status="READY").filter(
                Q(run_after__lte=by) | Q(run_after__gte=timezone.now() + timedelta(days=3650))
            )
            if waiting.exists():
                return False
        (deliver_due.using(run_after=at) if at is not None else deliver_due).enqueue()
        return True
    except Exception:
        logger.exception("could not enqueue the notification delivery task")
        return False


def after_task(sender: Any, task_result: Any, **kwargs: Any) -> None:
    """Receiver of django-tasks' `task_finished`: after each deadline sweep (every minute in
    `urbangrid worker`), make sure due deliveries have a task waiting for them."""
    try:
        if task_result.task.module_path.endswith(".sweep_deadlines"):
            if Delivery.objects.filter(status=Delivery.Status.PENDING, next_try__lte=timezone.now()).exists():
                enqueue_sweep()
    except Exception:
        logger.exception("could not check the notification outbox")


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: URBANGRID_NOTIFY_RETRY_SECONDS, doubling, at most
    an hour."""
    return min(timedelta(seconds=conf.retry_seconds() * 2 ** max(0, attempts - 1)), MAX_BACKOFF)


def message_for(delivery: Delivery, subject: Any = None) -> Message:
    n = delivery.notification
    path = object_path(n.content_type.app_label + "." + n.content_type.model, n.object_id)
    return Message(
        notification_id=n.pk,
        user=n.user,
        kind=n.kind,
        text=n.message,
        url=(conf.base_url() + path) if path and conf.base_url() else path,
        urgent=is_urgent(subject),
    )


def sweep(now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Send the deliveries that are due (each claimed first, so that two workers never send one
    twice); schedule the next run for the earliest retry."""
    now = now or timezone.now()
    configured = conf.senders()
    totals = {"sent": 0, "retry": 0, "failed": 0}
    due = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_try__lte=now)
        .select_related("notification__user", "notification__content_type")
        .order_by("next_try", "id")[:limit]
    )
    objects = subjects(d.notification for d in due)
    for delivery in due:
        claimed = Delivery.objects.filter(
            pk=delivery.pk, status=Delivery.Status.PENDING, next_try=delivery.next_try
        ).update(next_try=now + LEASE)
        if not claimed:
            continue
        n = delivery.notification
        subject = objects.get((n.content_type_id, n.object_id))
        outcome = attempt(delivery, configured.get(delivery.sender), message_for(delivery, subject), now)
        totals[outcome] += 1
    following = (
        Delivery.objects.filter(status=Delivery.Status.PENDING)
        .order_by("next_try")
        .values_list("next_try", flat=True)
        .first()
    )
    if following is not None:
        enqueue_sweep(None if following <= timezone.now() else following)
    return totals


def attempt(delivery: Delivery, sender: Sender | None, message: Message, now: datetime) -> str:
    """Send one claimed delivery and record the outcome: "sent", "retry" or "failed"."""
    delivery.attempts += 1
    try:
        if sender is None:
            raise LookupError(f"sender {delivery.sender!r} is not configured (URBANGRID_NOTIFY_SENDERS)")
        sender.send(message)
    except Exception as exc:
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if delivery.attempts >= conf.max_attempts():
            delivery.status = Delivery.Status.FAILED
            delivery.next_try = now
            logger.error(
                "notification %s via %s failed after %d attempts: %s",
                message.notification_id,
                delivery.sender,
                delivery.attempts,
                delivery.last_error,
            )
            outcome = "failed"
        else:
            delivery.next_try = now + backoff(delivery.attempts)
            logger.warning(
                "notification %s via %s failed (attempt %d), retrying at %s: %s",
                message.notification_id,
                delivery.sender,
                delivery.attempts,
                delivery.next_try.isoformat(),
                delivery.last_error,
            )
            outcome = "retry"
    else:
        delivery.status, delivery.sent_at, delivery.last_error = Delivery.Status.SENT, timezone.now(), ""
        outcome = "sent"
    delivery.save(update_fields=["attempts", "status", "next_try", "last_error", "sent_at"])
    return outcome
