"""Selectors shared by the API, the web UI and exports: one place decides what a user sees."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from urbangrid.core.models import User
from urbangrid.core.roles import RoleCode
from urbangrid.core.scope import department_ids_for, scope_q

from .models import Case, PendingRequest
from .models import State as S

CENTER_PRIVACY_ROLES = (RoleCode.OPERATOR, RoleCode.SHIFT_LEADER, RoleCode.LEADER, RoleCode.ADMINISTRATOR)


#: what case lists join, and the large columns of the joined rows they never show
LIST_RELATED = ("category", "department", "unit_grid", "work_grid", "community", "street")
LIST_DEFERRED = ("unit_grid__geometry", "community__geometry", "street__geometry")


def with_list_joins(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related(*LIST_RELATED).defer(*LIST_DEFERRED)


def visible_cases(user: User) -> QuerySet[Case]:
    """The cases `user` may see (role + scope), with what lists need joined."""
    return with_list_joins(Case.objects.filter(scope_q(user)))


def todo_q(user: User) -> Q:
    """Cases waiting for `user` in any of their roles (待办).

    Each role's bucket is an indexed query of its own; the buckets are combined with UNION
    (an OR over them defeats SQLite's planner once the list joins its related tables)."""
    buckets: list[Q] = []
    if user.has_role(RoleCode.COLLECTOR):
        buckets.append(Q(state__in=[S.VERIFYING, S.CHECKING, S.RECHECKING], work_grid__collectors=user))
    if user.has_role(RoleCode.OPERATOR):
        buckets.append(Q(state__in=[S.REPORTED, S.FEEDBACK]))
    if user.has_role(RoleCode.SHIFT_LEADER):
        buckets += [Q(state__in=[S.ACCEPTED, S.PENDING_CLOSE]), _pending(PendingRequest.VOID, state=None)]
    if user.has_role(RoleCode.DISPATCHER):
        buckets += [
            Q(state__in=[S.REGISTERED, S.RETURN_REQUESTED]),
            _pending(PendingRequest.EXTENSION, PendingRequest.SUSPENSION),
        ]
    if user.has_role(RoleCode.LEADER):
        buckets.append(_pending(PendingRequest.SUSPENSION))
    if user.has_role(RoleCode.HANDLER):
        ids = department_ids_for(user)
        if ids:
            buckets.append(Q(state=S.HANDLING, department_id__in=ids))
    if not buckets:
        return Q(pk__in=[])
    if len(buckets) == 1:
        return buckets[0]
    queries = [Case.objects.filter(b).order_by().values("pk") for b in buckets]
    return Q(pk__in=queries[0].union(*queries[1:]))


def _pending(*kinds: str, state: str | None = S.HANDLING) -> Q:
    """Cases with a pending request of these kinds. Repeats the condition of the partial index
    `case_pending` so that SQLite (which cannot infer it) also uses the index inside an OR."""
    q = Q(pending_request__in=kinds) & ~Q(pending_request="")
    return q & Q(state=state) if state else q


def department_todo(department_id: int) -> QuerySet[Case]:
    """One department's open tasks, most urgent deadline first (uses index case_dept_todo)."""
    return with_list_joins(Case.objects.filter(department_id=department_id, state=S.HANDLING)).order_by(
        "deadline", "id"
    )


def may_see_reporter(user: User) -> bool:
    """Reporter personal data is shown only to center staff who deal with reporters."""
    return user.is_superuser or user.has_role(*CENTER_PRIVACY_ROLES)
