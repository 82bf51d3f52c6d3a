"""Stored evaluations (存储的考评结果): the dashboards show the evaluation of a period and scope as
computed a few minutes ago, not recomputed on every request (for a department it reads every case
due in the month: about a second at a million cases a month).

`evaluation()` returns the stored rows of (object type, period, scope) when they are younger than
URBANGRID_EVALUATION_MAX_AGE seconds (default 600; 0: always compute) and were computed with the
counting rules in force; otherwise it computes, stores and returns them. The worker refreshes the
department evaluation of this month and last month, of the city and of every street, every
URBANGRID_EVALUATION_REFRESH_SECONDS (`refresh_current`), so that dashboards rarely compute.
The time of the computation goes with the rows: the dashboard shows it."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from .indicators import evaluate
from .models import StoredEvaluation
from .periods import Period, Scope, parse_period
from .rules import rules as current_rules


def _json(value: Any) -> Any:
    """As stored in a JSON field and read back (dates as text), so stored and fresh rows compare equal."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def evaluation(
    object_type: str, period: Period, scope: Scope, *, now: datetime | None = None
) -> tuple[list[dict[str, Any]], datetime | None]:
    """The evaluation rows of the object type in the period and scope, and when they were
    computed (None: just now, not stored because URBANGRID_EVALUATION_MAX_AGE is 0)."""
    age = settings.URBANGRID_EVALUATION_MAX_AGE
    if age <= 0:
        return evaluate(object_type, period, scope), None
    now = now or timezone.now()
    rules = _json(current_rules())
    row = (
        StoredEvaluation.objects.filter(object_type=object_type, first=period.first, last=period.last, scope=scope.text)
        .only("rows", "computed_at", "counting_rules")
        .first()
    )
    if row is not None and row.counting_rules == rules and row.computed_at > now - timedelta(seconds=age):
        return row.rows, row.computed_at
    return refresh(object_type, period, scope)


def refresh(object_type: str, period: Period, scope: Scope) -> tuple[list[dict[str, Any]], datetime]:
    """Compute and store the evaluation of (object type, period, scope)."""
    started = time.perf_counter()
    computed_at = timezone.now()
    rows = _json(evaluate(object_type, period, scope))
    StoredEvaluation.objects.update_or_create(
        object_type=object_type,
        first=period.first,
        last=period.last,
        scope=scope.text,
        defaults={
            "period": period.label,
            "counting_rules": _json(current_rules()),
            "rows": rows,
            "computed_at": computed_at,
            "seconds": round(time.perf_counter() - started, 3),
        },
    )
    return rows, computed_at


def refresh_current(now: datetime | None = None) -> int:
    """The worker's refresh: the department evaluation of this month and of last month (the one
    being scored and published), of the city and of each street (what the dashboards and the big
    screen open with); the number of evaluations stored. Stored evaluations not computed for a
    day (other periods and scopes asked for once) are dropped."""
    from urbangrid.geo.models import AdminDivision

    now = now or timezone.now()
    StoredEvaluation.objects.filter(computed_at__lt=now - timedelta(days=1)).delete()
    today = timezone.localdate(now)
    months = [parse_period(f"{today:%Y-%m}"), parse_period(f"{today.replace(day=1) - timedelta(days=1):%Y-%m}")]
    scopes = [Scope("city")] + [
        Scope("street", code, pk) for pk, code in AdminDivision.objects.filter(level="street").values_list("pk", "code")
    ]
    for month in months:
        for scope in scopes:
            refresh("department", month, scope)
    return len(months) * len(scopes)
