"""Keyset pages of case lists (待办, 已办, search, the phone's tasks and the export).

Lists never COUNT the case table: pages are fetched by a cursor (id, or deadline + id).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from urbangrid.cases.models import OPEN_STATES, Case

PAGE_SIZE = 50
#: The export streams at most this many rows (the list's order and filters apply).
EXPORT_LIMIT = 20_000


@dataclass
class Page:
    items: list[Case]
    next_cursor: str | None


def _encode(case: Case, sort: str) -> str:
    if sort == "deadline":
        return f"d|{case.deadline.isoformat()}|{case.pk}" if case.deadline else f"n|{case.pk}"
    return f"i|{case.pk}"


class BadCursor(ValueError):
    pass


def _pk(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) < 19):
        raise BadCursor(text)
    return int(text)


def _decode(cursor: str) -> tuple[str, datetime | None, int]:
    parts = cursor.split("|")
    try:
        if parts[0] == "d" and len(parts) == 3:
            at = parse_datetime(parts[1])
            if at is None or at.tzinfo is None:
                raise BadCursor(cursor)
            return "d", at, _pk(parts[2])
        if parts[0] in ("n", "i") and len(parts) == 2:
            return parts[0], None, _pk(parts[1])
    except (ValueError, OverflowError):
        pass
    raise BadCursor(cursor)


def _dedupe(rows: list[Case]) -> list[Case]:
    seen: set[int] = set()
    out = []
    for row in rows:
        if row.pk not in seen:
            seen.add(row.pk)
            out.append(row)
    return out


def paginate(
    qs: QuerySet[Case], sort: str, cursor: str = "", limit: int = PAGE_SIZE, states: Iterable[str] = OPEN_STATES
) -> Page:
    """One page by keyset: "-id" (newest first) or "deadline" (earliest first, no deadline last).

    Only open cases have a running deadline, so the deadline part reads the (state, deadline)
    index once per open state in `states` and merges: no sort over the whole set.
    """
    mode, at, last_id = _decode(cursor) if cursor else ("", None, 0)
    rows: list[Case] = []
    if sort == "deadline":
        if mode in ("", "d"):
            part = qs.filter(deadline__isnull=False)
            if mode == "d":
                part = part.filter(Q(deadline__gt=at) | Q(deadline=at, pk__gt=last_id))
            for state in [s for s in OPEN_STATES if s in set(states)]:
                rows += part.filter(state=state).order_by("deadline", "pk")[: limit + 1]
            rows = sorted(rows, key=lambda c: (c.deadline, c.pk))[: limit + 1]
        if len(rows) <= limit:
            part = qs.filter(deadline__isnull=True)
            if mode == "n":
                part = part.filter(pk__gt=last_id)
            rows += list(part.order_by("pk")[: limit + 1 - len(rows)])
    else:
        part = qs.filter(pk__lt=last_id) if mode == "i" else qs
        rows = list(part.order_by("-pk")[: limit + 1])
    rows = _dedupe(rows)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, _encode(rows[-1], sort) if more and rows else None)


def iterate_all(qs: QuerySet[Case], sort: str, limit: int = EXPORT_LIMIT):
    """Every row of a list in its order, page by page (for the export)."""
    cursor, sent = "", 0
    while sent < limit:
        page = paginate(qs, sort, cursor, min(500, limit - sent))
        yield from page.items
        sent += len(page.items)
        if not page.next_cursor:
            return
        cursor = page.next_cursor
