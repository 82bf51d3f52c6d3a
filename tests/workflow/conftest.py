from __future__ import annotations

import pytest

from tests.factories import department, user
from urbangrid.core.roles import RoleCode as R


class People:
    """One user per role the toy workflows use."""

    def __init__(self) -> None:
        self.dept = department("环卫部门")
        self.other_dept = department("市政部门")
        self.collector = user(R.COLLECTOR)
        self.operator = user(R.OPERATOR, scope_city=True)
        self.dispatcher = user(R.DISPATCHER, scope_city=True)
        self.shift = user(R.SHIFT_LEADER, scope_city=True)
        self.leader = user(R.LEADER, scope_city=True)
        self.handler = user(R.HANDLER, department=self.dept)
        self.handler2 = user(R.HANDLER, department=self.dept)
        self.other_handler = user(R.HANDLER, department=self.other_dept)
        self.inspector = user(R.INSPECTOR, scope_city=True)
        self.reviewer = user(R.LEGAL_REVIEWER)


@pytest.fixture
def people(db) -> People:
    return People()
