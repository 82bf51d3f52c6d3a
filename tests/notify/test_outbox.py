"""The outbox: deliveries are queued with the notification, sent after the commit by a
background task, retried with backoff, and a step never waits for or fails because of a sender."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.cases.test_loop import op, report
from tests.notify import fakes
from urbangrid.notify import outbox
from urbangrid.notify.models import Delivery
from urbangrid.workflow.holders import notify
from urbangrid.workflow.models import Notification

FAKES = "tests.notify.fakes."


@pytest.fixture(autouse=True)
def _reset_fakes():
    fakes.SENT.clear()
    fakes.FlakySender.calls = 0
    yield
    fakes.SENT.clear()


def test_a_step_queues_deliveries_and_enqueues_the_task_after_commit(
    world, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.URBANGRID_NOTIFY_SENDERS = [FAKES + "RecordingSender", "log"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case = report(world)
    note = Notification.objects.get(object_id=case.pk, kind="assigned")
    rows = Delivery.objects.filter(notification=note)
    assert sorted(rows.values_list("sender", "status", "attempts")) == [
        ("log", "pending", 0),
        (FAKES + "RecordingSender", "pending", 0),
    ]
    assert fakes.SENT == []  # nothing is sent inside the step
    assert not DBTaskResult.objects.exists()
    for callback in callbacks:
        callback()
    task = DBTaskResult.objects.get()
    assert task.task_path == "urbangrid.notify.tasks.deliver_due" and task.status == "READY"
    assert outbox.enqueue_sweep() is False  # one waiting task is enough

    assert outbox.sweep() == {"sent": 2, "retry": 0, "failed": 0}
    [message] = fakes.SENT
    assert (message.user, message.kind, message.text) == (world.operator, "assigned", note.message)
    assert message.url == f"/cases/{case.pk}/" and message.urgent is False
    assert set(rows.values_list("status", flat=True)) == {"sent"}
    assert outbox.sweep() == {"sent": 0, "retry": 0, "failed": 0}  # sent once only


def test_a_failing_sender_never_fails_the_step(world, settings, django_capture_on_commit_callbacks):
    settings.URBANGRID_NOTIFY_SENDERS = [FAKES + "BrokenSender"]
    with django_capture_on_commit_callbacks(execute=True):
        case = report(world)
        op(case, "accept", world.operator)
    assert case.state == "accepted"
    assert Delivery.objects.filter(status="pending").count() == 2


def test_a_misconfigured_sender_is_skipped(world, settings, caplog):
    settings.URBANGRID_NOTIFY_SENDERS = ["webhook", "no.such.Sender", FAKES + "RecordingSender"]
    settings.URBANGRID_NOTIFY_WEBHOOK_URL = ""
    case = report(world)
    assert list(Delivery.objects.values_list("sender", flat=True)) == [FAKES + "RecordingSender"]
    assert case.state == "reported"
    assert "webhook" in caplog.text and "no.such.Sender" in caplog.text


def test_failed_sends_are_retried_with_backoff_then_succeed(world, settings):
    settings.URBANGRID_NOTIFY_SENDERS = "none"
    case = report(world)
    settings.URBANGRID_NOTIFY_SENDERS = [FAKES + "FlakySender"]
    settings.URBANGRID_NOTIFY_RETRY_SECONDS = 30
    notify([world.handler], case, "urged", "快")
    d = Delivery.objects.get(notification__kind="urged")
    t0 = timezone.now()
    assert outbox.sweep(now=t0) == {"sent": 0, "retry": 1, "failed": 0}
    d.refresh_from_db()
    assert (d.status, d.attempts, d.next_try) == ("pending", 1, t0 + timedelta(seconds=30))
    assert d.last_error == "ConnectionError: gateway down (1)"
    assert outbox.sweep(now=t0 + timedelta(seconds=29)) == {"sent": 0, "retry": 0, "failed": 0}  # not due yet
    t1 = t0 + timedelta(seconds=30)
    assert outbox.sweep(now=t1) == {"sent": 0, "retry": 1, "failed": 0}
    d.refresh_from_db()
    assert (d.attempts, d.next_try) == (2, t1 + timedelta(seconds=60))  # doubled
    assert outbox.sweep(now=t1 + timedelta(seconds=60)) == {"sent": 1, "retry": 0, "failed": 0}
    d.refresh_from_db()
    assert (d.status, d.attempts, d.last_error) == ("sent", 3, "")
    assert [m.text for m in fakes.SENT] == ["快"]


def test_after_the_last_attempt_a_delivery_is_marked_failed(world, settings, caplog):
    settings.URBANGRID_NOTIFY_SENDERS = [FAKES + "BrokenSender"]
    settings.URBANGRID_NOTIFY_MAX_ATTEMPTS = 3
    case = report(world)
    d = Delivery.objects.get()
    now = timezone.now()
    for _ in range(3):
        outbox.sweep(now=now)
        now += timedelta(hours=2)
    d.refresh_from_db()
    assert (d.status, d.attempts, d.last_error) == ("failed", 3, "TimeoutError: no answer")
    assert outbox.sweep(now=now) == {"sent": 0, "retry": 0, "failed": 0}
    assert f"notification {d.notification_id} via" in caplog.text and "failed after 3 attempts" in caplog.text
    assert case.state == "reported"


def test_backoff_doubles_up_to_an_hour(settings):
    settings.URBANGRID_NOTIFY_RETRY_SECONDS = 30
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert outbox.backoff(20) == timedelta(hours=1)


def test_a_delivery_claimed_by_another_worker_is_skipped(world, settings):
    settings.URBANGRID_NOTIFY_SENDERS = [FAKES + "RecordingSender"]
    report(world)
    d = Delivery.objects.get()
    stale = Delivery.objects.get(pk=d.pk)
    Delivery.objects.filter(pk=d.pk).update(next_try=timezone.now() + outbox.LEASE)  # another worker's claim
    assert outbox.attempt  # the claim compares next_try: the stale copy cannot claim it
    assert Delivery.objects.filter(pk=stale.pk, status="pending", next_try=stale.next_try).update(status="x") == 0
    assert outbox.sweep() == {"sent": 0, "retry": 0, "failed": 0}
    assert fakes.SENT == []


def test_senders_that_cannot_reach_a_person_get_no_delivery(world, settings):
    settings.URBANGRID_NOTIFY_SENDERS = [FAKES + "PhoneOnlySender"]
    world.handler.phone = "13900000000"
    world.handler.save()
    case = report(world)
    notify([world.handler, world.dispatcher], case, "urged", "x")
    assert list(Delivery.objects.values_list("notification__user", flat=True)) == [world.handler.pk]


def test_no_senders(world, settings):
    settings.URBANGRID_NOTIFY_SENDERS = "none"
    report(world)
    assert not Delivery.objects.exists()


def test_the_worker_task_and_the_command(world, settings):
    from urbangrid.notify.tasks import deliver_due

    settings.URBANGRID_NOTIFY_SENDERS = [FAKES + "RecordingSender"]
    report(world)
    assert deliver_due.call() == {"sent": 1, "retry": 0, "failed": 0}
    report(world)
    call_command("send_notifications", stdout=(out := __import__("io").StringIO()))
    assert out.getvalue().strip() == "sent: 1, retry: 0, failed: 0"
    assert len(fakes.SENT) == 2


def test_the_deadline_sweep_also_wakes_the_outbox(world, settings):
    """A lost retry task is harmless: after each deadline sweep (every minute in the worker) a
    delivery task is enqueued when deliveries are due."""
    from django_tasks.signals import task_finished
    from django_tasks_db.models import DBTaskResult

    from urbangrid.cases.tasks import sweep_deadlines

    settings.URBANGRID_NOTIFY_SENDERS = [FAKES + "RecordingSender"]
    report(world)
    result = sweep_deadlines.enqueue()
    DBTaskResult.objects.all().delete()
    task_finished.send(sender=type(sweep_deadlines.get_backend()), task_result=result)
    assert DBTaskResult.objects.get().task_path == "urbangrid.notify.tasks.deliver_due"


def test_the_delivery_task_is_woken_in_batches(world, settings, django_assert_num_queries):
    """After a commit the process looks for a waiting task at most once per BATCH: a task that
    cannot start before a known time covers every commit made before that time."""
    from django_tasks_db.models import DBTaskResult

    t0 = timezone.now()
    assert outbox.wake() is True  # none waiting: one enqueued, starting BATCH from now
    task = DBTaskResult.objects.get()
    assert task.status == "READY" and t0 + outbox.BATCH <= task.run_after <= timezone.now() + outbox.BATCH
    with django_assert_num_queries(0):
        assert outbox.wake() is False  # covered: no look at all
    outbox.forget_waiting_task()  # another process: finds the waiting task, enqueues none
    with django_assert_num_queries(1):
        assert outbox.wake() is False
    assert DBTaskResult.objects.count() == 1
    # once the task may have started, the next commit looks again and enqueues a new one
    DBTaskResult.objects.update(run_after=timezone.now() - timedelta(seconds=1))
    outbox.forget_waiting_task()
    assert outbox.wake() is True
    assert DBTaskResult.objects.count() == 2


def test_a_sender_that_fails_to_decide_never_fails_the_step(world, settings, caplog):
    settings.URBANGRID_NOTIFY_SENDERS = [FAKES + "AcceptsBrokenSender", FAKES + "RecordingSender"]
    case = report(world)
    assert case.state == "reported"
    assert Notification.objects.filter(object_id=case.pk, kind="assigned").exists()  # the person sees it
    assert not Delivery.objects.exists()
    assert "could not queue 1 notification(s)" in caplog.text
    op(case, "accept", world.operator)  # the transaction was not broken
    assert case.state == "accepted"


def test_a_sender_name_too_long_for_the_outbox_is_skipped(world, settings, caplog):
    from urbangrid.notify import conf

    long_name = "x" * 201
    recording = fakes.RecordingSender()
    recording.name = long_name
    settings.URBANGRID_NOTIFY_SENDERS = [FAKES + "RecordingSender"]
    original = conf.senders
    conf.senders = lambda: {long_name: recording, **original()}
    try:
        report(world)
    finally:
        conf.senders = original
    assert list(Delivery.objects.values_list("sender", flat=True)) == [FAKES + "RecordingSender"]
    assert "longer than 200 characters" in caplog.text
