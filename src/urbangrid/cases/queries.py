"""Selectors shared by the API, the web UI and exports: one place decides what a user sees."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from urbangrid.core.models import User
from urbangrid.core.roles import RoleCode
from urbangrid.core.scope import scope_q

from .models import OPEN_STATES, Case

CENTER_PRIVACY_ROLES = (RoleCode.OPERATOR, RoleCode.SHIFT_LEADER, RoleCode.LEADER, RoleCode.ADMINISTRATOR)


#: what case lists join, and the large columns of the joined rows they never show
LIST_RELATED = ("category", "department", "unit_grid", "work_grid", "community", "street")
LIST_DEFERRED = ("unit_grid__geometry", "community__geometry", "street__geometry")


def with_list_joins(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related(*LIST_RELATED).defer(*LIST_DEFERRED)


def visible_cases(user: User) -> QuerySet[Case]:
    """The cases `user` may see (role + scope, and the cases they reported), with what lists need
    joined. Seeing is not acting: the loop's guards check the scope itself."""
    return with_list_joins(Case.objects.filter(scope_q(user, reporter="reported_by")))


def todo_q(user: User) -> Q:
    """Cases waiting for `user` in any of their roles (待办), derived from the loop's holders and
    approvals (`workflow.holders`).

    Each bucket is an indexed query of its own; the buckets are combined with UNION (an OR over
    them defeats SQLite's planner once the list joins its related tables)."""
    from urbangrid.workflow.holders import todo_buckets

    buckets = todo_buckets(Case, user)
    if not buckets:
        return Q(pk__in=[])
    if len(buckets) == 1:
        return buckets[0]
    queries = [Case.objects.filter(b).order_by().values("pk") for b in buckets]
    return Q(pk__in=queries[0].union(*queries[1:]))


def todo_states(user: User) -> list[str]:
    """The open states `user`'s to-do can hold (from the loop's holders and approvals): lists
    read one (state, deadline) index range per state, so they need not read the others."""
    from urbangrid.workflow.holders import held_states

    held = set(held_states(Case, user))
    return [s for s in OPEN_STATES if s in held]


def may_see_reporter(user: User) -> bool:
    """Reporter personal data is shown only to center staff who deal with reporters."""
    return user.is_superuser or user.has_role(*CENTER_PRIVACY_ROLES)
