"""The lights sweep (亮灯): for every registered workflow, stage clocks and named clocks turn
yellow at 75 % of their time and red after the deadline; whoever holds the object is told when
its light changes, and red objects in the states a definition escalates are reported to the
role it names. `urbangrid worker` runs this every minute."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import clock, registry
from .holders import holders, notify
from .models import History, Light, Timer


def sweep(now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    totals = {"red": 0, "yellow": 0, "notifications": 0, "clocks": 0}
    for model in registry.models():
        for wf in registry.workflows(model):
            _sweep_stage(model, wf, now, totals)
    _sweep_timers(now, totals)
    return totals


def _sweep_stage(model, wf, now: datetime, totals: dict[str, int]) -> None:
    several = len(registry.registration(model).workflows) > 1
    mine = model._default_manager.filter(workflow=wf.name) if several else model._default_manager.all()
    open_timed = mine.filter(state__in=wf.open_states, deadline__isnull=False)
    to_red = list(open_timed.filter(deadline__lt=now).exclude(light=Light.RED).values_list("pk", flat=True))
    to_yellow = list(
        open_timed.filter(deadline__gte=now, warn_at__lte=now).exclude(light=Light.YELLOW).values_list("pk", flat=True)
    )
    with transaction.atomic():
        mine.filter(pk__in=to_red).update(light=Light.RED)
        mine.filter(pk__in=to_yellow).update(light=Light.YELLOW)
        mine.filter(~Q(light=Light.GREEN), ~Q(pk__in=to_red + to_yellow)).filter(
            Q(deadline__isnull=True) | Q(deadline__gte=now, warn_at__gt=now) | ~Q(state__in=wf.open_states)
        ).update(light=Light.GREEN)
        for obj in mine.filter(pk__in=to_red + to_yellow):
            red = obj.pk in to_red
            text = (_("%(obj)s is overdue.") if red else _("%(obj)s is due soon.")) % {"obj": obj}
            totals["notifications"] += notify(holders(obj), obj, "overdue" if red else "due_soon", text)
            role = wf.escalate.get(obj.state) if red else None
            if role:
                from urbangrid.core.models import User

                leaders = User.objects.filter(is_active=True, roles__code=role).distinct()
                totals["notifications"] += notify(leaders, obj, "escalated", text)
    totals["red"] += len(to_red)
    totals["yellow"] += len(to_yellow)


def _sweep_timers(now: datetime, totals: dict[str, int]) -> None:
    running = Timer.objects.filter(stopped_at__isnull=True, paused_at__isnull=True, deadline__isnull=False)
    to_red = list(running.filter(deadline__lt=now).exclude(light=Light.RED))
    to_yellow = list(running.filter(deadline__gte=now, warn_at__lte=now).exclude(light=Light.YELLOW))
    with transaction.atomic():
        Timer.objects.filter(pk__in=[t.pk for t in to_red]).update(light=Light.RED)
        Timer.objects.filter(pk__in=[t.pk for t in to_yellow]).update(light=Light.YELLOW)
        for timer, red in [(t, True) for t in to_red] + [(t, False) for t in to_yellow]:
            model = ContentType.objects.get_for_id(timer.content_type_id).model_class()
            obj = model._default_manager.filter(pk=timer.object_id).first() if model else None
            if obj is None:
                continue
            text = (_("%(obj)s: clock “%(c)s” is overdue.") if red else _("%(obj)s: clock “%(c)s” is due soon.")) % {
                "obj": obj,
                "c": timer.name,
            }
            totals["notifications"] += notify(holders(obj), obj, "clock_overdue" if red else "clock_due_soon", text)
    totals["clocks"] += len(to_red) + len(to_yellow)


def _extension(payload: dict) -> tuple[Decimal, str] | None:
    """The extension a history entry granted: `Context.extend` records it as "extension"; entries
    written before that carry amount and unit next to the new deadline."""
    ext = payload.get("extension") if isinstance(payload, dict) else None
    if ext is None and isinstance(payload, dict) and {"amount", "unit", "new_deadline"} <= payload.keys():
        ext = payload
    if not ext:
        return None
    return Decimal(str(ext["amount"])), str(ext["unit"])


def recompute_deadlines(years: Iterable[int] | None = None) -> int:
    """After the working calendar changed: recompute the running stage deadline of every open
    object of every registered workflow from its stage start, its limit and the extensions
    approved since (a new version, so a step decided on the old deadline is not written)."""
    from urbangrid.core.audit import audit

    changed = 0
    for model in registry.models():
        ct = ContentType.objects.get_for_model(model)
        several = len(registry.registration(model).workflows) > 1
        for wf in registry.workflows(model):
            qs = model._default_manager.filter(workflow=wf.name) if several else model._default_manager.all()
            qs = qs.filter(
                state__in=wf.open_states,
                deadline__isnull=False,
                stage_started_at__isnull=False,
                stage_limit_amount__isnull=False,
            )
            if years:
                qs = qs.filter(deadline__year__gte=min(years))
            for obj in qs.iterator():
                payloads = History.objects.filter(
                    content_type=ct, object_id=obj.pk, created_at__gte=obj.stage_started_at
                ).values_list("payload", flat=True)
                extensions = [e for e in map(_extension, payloads) if e]
                at, provisional = clock.recomputed_deadline(obj, extensions)
                if at != obj.deadline or provisional != obj.deadline_provisional:
                    model._default_manager.filter(pk=obj.pk).update(
                        deadline=at,
                        deadline_provisional=provisional,
                        warn_at=clock.warn_at(obj.stage_started_at, at),
                        version=F("version") + 1,
                    )
                    changed += 1
    if changed:
        audit(
            None,
            "workflow.recompute_deadlines",
            object_type="workflow",
            summary=f"{changed} open deadlines recomputed after a working-calendar change",
            changed=changed,
            years=sorted(years) if years else "all",
        )
    return changed
