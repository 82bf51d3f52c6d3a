"""Staff help: the state diagram and the operations of every registered workflow, drawn from the
definitions (so the help never disagrees with what the system does)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from urbangrid.core.roles import RoleCode
from urbangrid.workflow import registry
from urbangrid.workflow.diagram import svg

from .access import staff_required


def _role_label(code: str) -> str:
    return str(RoleCode(code).label) if code in RoleCode.values else str(code)


def _all() -> list:
    return [wf for model in registry.models() for wf in registry.workflows(model)]


@staff_required()
@require_GET
def workflows(request: HttpRequest) -> HttpResponse:
    rows = []
    for wf in _all():
        ops = []
        for t in wf.transitions:
            ops.append(
                {
                    "name": t.name,
                    "label": t.label,
                    "sources": [wf.state_label(s) for s in t.sources],
                    "target": wf.state_label(t.target) if t.target else "",
                    "roles": [_role_label(r) for r in t.roles],
                    "system": t.system,
                    "inputs": t.inputs,
                    "help": t.help,
                }
            )
        rows.append({"wf": wf, "operations": ops})
    return render(request, "web/help_workflows.html", {"workflows": rows})


@staff_required()
@require_GET
def workflow_svg(request: HttpRequest, name: str) -> HttpResponse:
    wf = next((w for w in _all() if w.name == name), None)
    if wf is None:
        raise Http404("No such workflow.")
    response = HttpResponse(svg(wf), content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
