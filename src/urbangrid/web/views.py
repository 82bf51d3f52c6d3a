"""Staff web: sign-in, workbenches (to-do, done, search), the case page, photos and export."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from urbangrid.cases.models import OPEN_STATES
from urbangrid.cases.queries import todo_states
from urbangrid.core.roles import RoleCode as R
from urbangrid.workflow import kit
from urbangrid.workflow.models import Attachment

from . import lists, live
from .access import primary_role, staff_required
from .export import xlsx_response
from .shared import operations
from .shared.casepage import case_context, get_visible_case


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "web/password.html"

    def get_success_url(self) -> str:
        messages.success(self.request, _("Your password was changed."))
        return reverse("web:home")


@staff_required()
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on its workbench; collectors on the phone app."""
    if primary_role(request.user) == R.COLLECTOR:
        return redirect("mobile:home")
    return redirect("web:todo")


LIST_TITLES = {
    "todo": gettext_lazy("To do"),
    "done": gettext_lazy("Done by me"),
    "search": gettext_lazy("Search cases"),
}
ROLE_TITLES = {
    R.OPERATOR: gettext_lazy("Operator workbench"),
    R.SHIFT_LEADER: gettext_lazy("Shift leader workbench"),
    R.DISPATCHER: gettext_lazy("Dispatcher workbench"),
    R.HANDLER: gettext_lazy("Department workbench"),
    R.LEADER: gettext_lazy("Leader workbench"),
    R.ADMINISTRATOR: gettext_lazy("Administrator workbench"),
    R.COLLECTOR: gettext_lazy("Collector workbench"),
}


def _list(request: HttpRequest, kind: str):
    """The list's filter form, its cases (`cases.filters`) and their order."""
    form = lists.CaseFilterForm(request.user, request.GET or None)
    qs = form.filter(lists.base_queryset(request.user, kind))
    return form, qs, form.order or lists.default_sort(kind)


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


@staff_required()
@require_GET
def case_list(request: HttpRequest, kind: str) -> HttpResponse:
    fragment = kind == "todo" and "fragment" in request.GET  # live.js: rows and counts only
    if fragment:
        request.GET = request.GET.copy()
        del request.GET["fragment"]
    form, qs, sort = _list(request, kind)
    cursor = request.GET.get("cursor", "")
    numbered = kind != "todo"  # search and done: a total and page numbers
    try:
        number = lists.page_number(request.GET.get("page", ""), cursor) if numbered else 1
        states = todo_states(request.user) if kind == "todo" else OPEN_STATES
        page = lists.page_of(qs, sort, number, cursor, states=states)
    except lists.BadCursor:
        return HttpResponseBadRequest(_("The page link is not valid."))
    now = timezone.now()
    rows = [(c, [_show(col.value(c)) for col in lists.COLUMNS], lists.light_of(c, now)) for c in page.items]
    params = request.GET.copy()
    params.pop("cursor", None)
    params.pop("page", None)
    next_url = ""
    if page.next_cursor:
        following = params.copy()
        following["cursor"] = page.next_cursor
        if numbered:
            following["page"] = str(number + 1)
        next_url = "?" + following.urlencode()
    total = lists.count_total(qs) if numbered and not form.invalid else None
    role = primary_role(request.user)
    context: dict[str, Any] = {
        "kind": kind,
        "title": LIST_TITLES[kind],
        "role_title": ROLE_TITLES.get(role, ""),
        "form": form,
        "columns": lists.COLUMNS,
        "rows": rows,
        "next_url": next_url,
        "export_url": reverse("web:export", args=[kind]) + ("?" + params.urlencode() if params else ""),
        "is_first_page": not cursor and number == 1,
        "first_url": "?" + params.urlencode(),
        "total": total,
        "page_number": number,
        "page_links": lists.page_links(params, number, total) if total else [],
    }
    if kind == "todo":
        context["counts"] = lists.todo_counts(request.user)
    template = "web/partials/todo_live.html" if fragment else "web/case_list.html"
    return render(request, template, context, status=400 if form.invalid else 200)


@staff_required()
@require_GET
def export(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in lists.LIST_KINDS:
        raise Http404
    form, qs, sort = _list(request, kind)
    if form.invalid:
        errors = [f"{form.fields[k].label if k in form.fields else ''}: {' '.join(v)}" for k, v in form.errors.items()]
        return HttpResponseBadRequest("\n".join(errors), content_type="text/plain; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    rows = lists.iterate_all(qs, sort)
    return xlsx_response(rows, lists.EXPORT_COLUMNS, str(LIST_TITLES[kind]), f"cases-{kind}-{stamp}")


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico (asked for by browsers on every page, the admin's too): the static icon."""
    response = redirect(static("web/favicon.ico"))
    response["Cache-Control"] = "public, max-age=86400"
    return response


# --- the case page ---------------------------------------------------------------------


@staff_required()
@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_visible_case(request, case_id)
    live.mark_read(request.user, case)
    return render(request, "web/case_detail.html", case_context(request, case))


@staff_required()
@require_POST
def case_operate(request: HttpRequest, case_id: int, operation: str) -> HttpResponse:
    case = get_visible_case(request, case_id)
    outcome = operations.run(request, case, operation)
    if outcome.ok:
        messages.success(request, outcome.message)
        nxt = request.POST.get("next", "")
        if nxt and url_has_allowed_host_and_scheme(nxt, {request.get_host()}):
            return redirect(nxt)
        return redirect("web:case", case_id=case.pk)
    messages.error(request, outcome.message)
    if outcome.form is None:
        raise Http404(outcome.message)
    case = get_visible_case(request, case_id)
    forms = operations.replace_form(operations.forms_for(case, request.user), outcome.form)
    context = case_context(request, case, forms)
    context["open_operation"] = operation
    return render(request, "web/case_detail.html", context, status=outcome.status)


@staff_required()
@require_GET
def attachment(request: HttpRequest, token: str) -> FileResponse:
    """A photo, only for whoever uploaded it or may see its record (MEDIA is not served publicly)."""
    att = Attachment.objects.filter(token=token).first()
    if att is None or not kit.may_read(att, request.user):
        raise Http404
    response = FileResponse(att.file.open("rb"), content_type=att.mime_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response
