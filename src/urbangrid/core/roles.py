"""The roles of the vision (岗位) as codes. A Role row gives each code its permission set."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RoleCode(models.TextChoices):
    COLLECTOR = "collector", _("collector")  # 监督员 / 信息采集员 / 网格员
    OPERATOR = "operator", _("operator")  # 受理员
    SHIFT_LEADER = "shift_leader", _("shift leader")  # 值班长
    DISPATCHER = "dispatcher", _("dispatcher")  # 派遣员
    HANDLER = "handler", _("department handler")  # 专业部门 / 处置单位
    ENFORCEMENT_OFFICER = "enforcement_officer", _("enforcement officer")  # 执法队员
    LEGAL_REVIEWER = "legal_reviewer", _("legal reviewer")  # 法制审核员
    INSPECTOR = "inspector", _("inspector")  # 检查员
    LEADER = "leader", _("leader")  # 领导
    ADMINISTRATOR = "administrator", _("administrator")  # 系统管理员
    CITIZEN = "citizen", _("citizen")  # 市民


#: Django permissions ("app_label.codename") granted to each role by `ensure_roles()`.
DEFAULT_PERMISSIONS: dict[str, list[str]] = {
    RoleCode.COLLECTOR: ["cases.view_case", "cases.add_case", "geo.view_unitgrid"],
    RoleCode.OPERATOR: ["cases.view_case", "cases.add_case", "geo.view_unitgrid"],
    RoleCode.SHIFT_LEADER: ["cases.view_case", "geo.view_unitgrid"],
    RoleCode.DISPATCHER: ["cases.view_case", "geo.view_unitgrid", "core.view_department"],
    RoleCode.HANDLER: ["cases.view_case"],
    RoleCode.ENFORCEMENT_OFFICER: ["geo.view_unitgrid"],
    RoleCode.LEGAL_REVIEWER: [],
    RoleCode.INSPECTOR: ["geo.view_unitgrid"],
    RoleCode.LEADER: ["cases.view_case", "geo.view_unitgrid", "core.view_department"],
    RoleCode.ADMINISTRATOR: ["*"],
    RoleCode.CITIZEN: [],
}
