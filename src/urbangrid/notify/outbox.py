"""The outbox (发件箱): every notification becomes one `Delivery` per configured sender, written
in the same transaction as the notification; after the commit a background task
(`tasks.deliver_due`, run by `urbangrid worker`) sends what is due. A failed send is tried again
with exponential backoff until URBANGRID_NOTIFY_MAX_ATTEMPTS, then marked failed. A workflow step
never waits for a sender and never fails because of one.

The task is batched (`wake`): after a commit that queued deliveries, a process looks for a
waiting task at most once per `BATCH`; it finds or enqueues one that cannot start before a known
time (`run_after`), and every later commit of this process before that time needs no look: the
task, when it starts, reads every delivery committed before. A delivery so waits at most
`BATCH` (plus the worker's polling) for its task."""

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
#: new deliveries of a burst share one task starting this long after the first of them
BATCH = timedelta(seconds=1)
#: a known waiting task covers the commits made until this long before it may start (clock skew
#: between this process and the worker's)
MARGIN = timedelta(milliseconds=250)

_SENDER_FIELD = Delivery._meta.get_field("sender")


# --- queueing (inside the step's transaction) -------------------------------------------------


def on_notified(sender: Any, notifications: list[Any], **kwargs: Any) -> None:
    """Receiver of `workflow.holders.notified`: never lets a sender's error reach the step."""
    try:
        queue(notifications)
    except _SenderError:
        logger.exception("could not queue %d notification(s) for delivery", len(notifications))


class _SenderError(Exception):
    """A configured sender failed while deciding whom it reaches (nothing was written)."""


def _accepting(configured: dict[str, Sender], user: Any) -> list[str]:
    try:
        return [name for name, sender in configured.items() if sender.accepts(user)]
    except Exception as exc:
        raise _SenderError(str(exc)) from exc


def queue(notifications: list[Any], now: datetime | None = None) -> int:
    """Outbox rows for `notifications` (saved, with their users), in one INSERT; the send task
    is woken after the commit (`wake`). Everything that depends on the senders (their
    configuration, whom they reach, their names) is decided before anything is written, so a
    sender can never make the step's transaction fail."""
    try:
        found = conf.senders()
    except Exception as exc:
        raise _SenderError(str(exc)) from exc
    configured = {
        name: sender for name, sender in found.items() if len(name) <= _SENDER_FIELD.max_length or _too_long(name)
    }
    if not configured:
        return 0
    now = now or timezone.now()
    rows = [
        Delivery(notification_id=n.pk, sender=name, next_try=now)
        for n in notifications
        if n.pk is not None
        for name in _accepting(configured, n.user)
    ]
    Delivery.objects.bulk_create(rows)
    if rows:
        transaction.on_commit(wake)
    return len(rows)


def _too_long(name: str) -> bool:
    logger.error("notification sender name %r is longer than %d characters; skipped", name, _SENDER_FIELD.max_length)
    return False


# --- the background task's side ------------------------------------------------------------------


def _task_path() -> str:
    from .tasks import deliver_due

    return deliver_due.module_path


def enqueue_sweep(at: datetime | None = None) -> bool:
    """Enqueue `deliver_due` (at `at`, or now) unless a waiting one will run by then (or within
    `BATCH` of then: a batched task that `wake` enqueued)."""
    from .tasks import deliver_due

    try:
        backend = deliver_due.get_backend()
        if at is not None and not backend.supports_defer:
            return False  # retried by the next sweep (worker) or `urbangrid send_notifications`
        if type(backend).__module__.startswith("django_tasks_db"):
            from django_tasks_db.models import DBTaskResult

            by = (at or timezone.now()) + BATCH
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


#: this process knows a waiting delivery task that cannot start before this time (see `wake`)
_covered_until: datetime | None = None


def forget_waiting_task() -> None:
    """Forget the waiting task this process knows (tests: the table was emptied)."""
    global _covered_until
    _covered_until = None


def wake() -> bool:
    """After a commit that queued deliveries: make sure a delivery task will start after it.
    Nothing to do when this process knows a waiting task that cannot start before (`MARGIN`
    ahead of) now; otherwise find one that starts within `BATCH`, or enqueue one `BATCH` from
    now, and remember it. True when a task was enqueued."""
    global _covered_until
    now = timezone.now()
    if _covered_until is not None and now + MARGIN < _covered_until:
        return False
    from .tasks import deliver_due

    try:
        backend = deliver_due.get_backend()
        if not backend.supports_defer or not type(backend).__module__.startswith("django_tasks_db"):
            return enqueue_sweep()  # no known start time to rely on: one look per commit
        from django_tasks_db.models import DBTaskResult

        found = (
            DBTaskResult.objects.filter(
                task_path=_task_path(), status="READY", run_after__gt=now + MARGIN, run_after__lte=now + BATCH
            )
            .order_by("-run_after")
            .values_list("run_after", flat=True)
            .first()
        )
        if found is not None:
            _covered_until = found
            return False
        start = now + BATCH
        deliver_due.using(run_after=start).enqueue()
        _covered_until = start
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
