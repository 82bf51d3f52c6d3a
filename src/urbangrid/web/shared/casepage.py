"""The case page (staff web and phone): a visible case or 404, and what its page shows."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from urbangrid.cases.models import Case, Dispute
from urbangrid.cases.queries import may_see_reporter, visible_cases
from urbangrid.catalog.models import Category
from urbangrid.core.models import Department
from urbangrid.core.roles import RoleCode
from urbangrid.workflow import kit
from urbangrid.workflow.definition import Transition, Workflow
from urbangrid.workflow.engine import history_for
from urbangrid.workflow.models import AttachmentKind

from .labels import light_of, state_label
from .operations import OperationForm, forms_for


def tile_settings() -> dict[str, str]:
    """The configured map tiles: URL template(s), attribution and coordinate system.

    `crs` is GCJ02 or WGS84 (CGCS2000, Tianditu, draws as WGS-84), as /map/tiles.json says: map pages
    put it in `data-tile-crs` so that map.js shifts the overlays onto GCJ-02 tiles from the start.
    """
    return {
        "url": getattr(settings, "URBANGRID_TILE_URL", ""),
        "attribution": getattr(settings, "URBANGRID_TILE_ATTRIBUTION", ""),
        "crs": "GCJ02" if getattr(settings, "URBANGRID_TILE_CRS", "WGS84") == "GCJ02" else "WGS84",
    }


def get_visible_case(request: HttpRequest, case_id: int) -> Case:
    """The case if the signed-in user may see it; 404 alike for absent and out of scope."""
    case = (
        visible_cases(request.user)
        .select_related("suggested_department", "merged_into", "reported_by", "component")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise Http404(_("No such case, or it is outside your area of responsibility."))
    return case


# --- the timeline: history data in words ------------------------------------------------------

#: labels of history data that is not an input of its step (inputs are labelled by their declaration)
PAYLOAD_LABELS: dict[str, Any] = {
    "department": gettext_lazy("department"),
    "previous_department": gettext_lazy("department"),
    "suggested_department": gettext_lazy("suggested department"),
    "returned_department": gettext_lazy("department"),
    "result": gettext_lazy("result"),
    "amount": gettext_lazy("extension"),
    "unit": gettext_lazy("unit"),
    "new_deadline": gettext_lazy("new deadline"),
    "urgency": gettext_lazy("urgency"),
    "exists": gettext_lazy("exists on site"),
    "merged_into": gettext_lazy("merged into"),
    "category": gettext_lazy("category"),
    "previous_category": gettext_lazy("category"),
    "rework_count": gettext_lazy("rework"),
    "urged_count": gettext_lazy("urged"),
    "supervision_limit": gettext_lazy("supervised (督办)"),
    "outcome": gettext_lazy("outcome"),
    "not_fixed": gettext_lazy("reporter says not fixed"),
    "rating": gettext_lazy("rating"),
    "channel": gettext_lazy("channel"),
    "dispute": gettext_lazy("outcome"),
    "instructions": gettext_lazy("Instructions (批示)"),
    "condition": gettext_lazy("Registration condition (立案条件)"),
}
#: shown by the entry itself, or internal
HIDDEN_PAYLOAD = {"reason", "note", "department_name", "clocks", "suggested", "approver", "request"}
DEPARTMENT_KEYS = ("department", "previous_department", "suggested_department", "returned_department")
CATEGORY_KEYS = ("category", "previous_category")


class _Words:
    """Renders the history data of one workflow object as words (labels, names, 是/否)."""

    def __init__(self, wf: Workflow, obj: Any, entries: list[Any]) -> None:
        self.wf, self.obj = wf, obj
        ids = {
            int(e.payload[k])
            for e in entries
            for k in DEPARTMENT_KEYS
            if str(e.payload.get(k, "")).isascii() and str(e.payload.get(k, "")).isdigit()
        }
        self.departments = dict(Department.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
        codes = {str(e.payload[k]) for e in entries for k in CATEGORY_KEYS if e.payload.get(k)}
        self.categories: dict[str, str] = {}
        if codes:
            for code, name in Category.objects.filter(code__in=codes).order_by("-kind").values_list("code", "name"):
                self.categories.setdefault(code, name)
        self._choices: dict[str, dict[str, str]] = {}

    def choices(self, name: str) -> dict[str, str]:
        """Value → label of every declared input called `name` in the workflow."""
        if name not in self._choices:
            labels: dict[str, str] = {}
            for t in self.wf.transitions:
                inp = t.input(name)
                if inp is not None and inp.choices is not None and name not in DEPARTMENT_KEYS:
                    labels.update({str(v): str(label) for v, label in inp.choice_list(self.obj)})
            self._choices[name] = labels
        return self._choices[name]

    def label(self, t: Transition | None, key: str) -> str | None:
        inp = t.input(key) if t is not None else None
        if inp is not None:
            return str(inp.label)
        label = PAYLOAD_LABELS.get(key)
        return str(label) if label is not None else None

    def value(self, key: str, value: Any, payload: Mapping[str, Any]) -> str:
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if value is None or value == "":
            return "—"
        text = str(value)
        if key in DEPARTMENT_KEYS:
            if key == "department" and payload.get("department_name"):
                return str(payload["department_name"])
            return self.departments.get(int(text), text) if text.isascii() and text.isdigit() else text
        if key in CATEGORY_KEYS:
            return f"{text} {self.categories.get(text, '')}".strip()
        if key == "new_deadline":
            at = parse_datetime(text)
            return date_format(timezone.localtime(at), "Y-m-d H:i") if at and timezone.is_aware(at) else text
        if key == "supervision_limit":
            amount, _sep, unit = text.partition(" ")
            return f"{_number(amount)} {self.choices('unit').get(unit, unit)}".strip()
        if key == "dispute":
            return str(dict(Dispute.Outcome.choices).get(text, text))
        if key == "amount":
            return _number(text)
        base = key.removeprefix("previous_")
        return self.choices(base).get(text, text)

    def details(self, t: Transition | None, payload: Mapping[str, Any]) -> list[tuple[str, str]]:
        if "link" in payload and "ref" in payload:  # a link to another record
            return [(_("linked record"), str(payload["ref"]))]
        rows = []
        for key, value in payload.items():
            if key in HIDDEN_PAYLOAD or isinstance(value, (dict, list)):
                continue
            label = self.label(t, key)
            if label is None:  # never show a raw key
                continue
            rows.append((label, self.value(key, value, payload)))
        if payload.get("approver"):
            rows.append((_("approver"), str(dict(RoleCode.choices).get(payload["approver"], payload["approver"]))))
        return rows


def _number(text: str) -> str:
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return text
    return format(value.normalize(), "f") if value.is_finite() else text


def timeline(case: Any) -> list[dict[str, Any]]:
    """The history of a workflow object, in words."""
    wf = case.get_workflow()
    entries = list(history_for(case))
    words = _Words(wf, case, entries)
    rows = []
    for h in entries:
        t = wf.by_name.get(h.action)
        rows.append(
            {
                "entry": h,
                "label": t.label if t else _("linked") if h.action == "link" else h.action,
                "from_label": wf.state_label(h.from_state) if h.from_state and h.from_state != h.to_state else "",
                "to_label": wf.state_label(h.to_state),
                "details": words.details(t, h.payload or {}),
                "photos": [a["id"] for a in h.attachments if isinstance(a, dict) and "id" in a],
            }
        )
    return rows


def photo_groups(obj: Any) -> list[tuple[str, list[Any]]]:
    groups: dict[str, list[Any]] = {}
    for att in kit.attachments_of(obj).order_by("pk"):
        groups.setdefault(att.kind or AttachmentKind.OTHER, []).append(att)
    kinds = dict(AttachmentKind.choices)
    return [(str(kinds[k]), groups[k]) for k in kinds if k in groups]


def case_context(
    request: HttpRequest,
    case: Case,
    forms: list[OperationForm] | None = None,
) -> dict[str, Any]:
    """What the case page (web and phone) shows."""
    grid = case.unit_grid
    tiles = tile_settings()
    return {
        "case": case,
        "light": light_of(case),
        "state_label": state_label(case),
        "photo_groups": photo_groups(case),
        "timeline": timeline(case),
        "op_forms": forms if forms is not None else forms_for(case, request.user),
        "show_reporter": may_see_reporter(request.user),
        "map_data": {"point": [case.lon, case.lat], "grid": grid.geometry, "grid_code": grid.code},
        "tiles_url": tiles["url"],
        "tile_crs": tiles["crs"],
    }
