"""The demo city (演示城市): a reproducible district with its organisation, people, base data
and a year of cases (see year.py), built through the real actions and the workflow engine."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from urbangrid.core.models import Department, DepartmentKind, Role, User
from urbangrid.core.roles import RoleCode

from .year import YEAR_CASES

DEMO_PASSWORD = "urbangrid-demo"
DEMO_SEED = 20261122
#: API key of the demo Open311 partner application (only its hash is stored).
DEMO_OPEN311_KEY = "urbangrid-demo-open311-key"

CENTERS = [
    ("SC", "桐乡市数字城管监督中心", DepartmentKind.SUPERVISION_CENTER),
    ("CC", "桐乡市城市管理指挥中心", DepartmentKind.COMMAND_CENTER),
]
#: Professional departments and companies, named as in categories.csv so categories map to them.
PROFESSIONAL = [
    ("ZF", "城管执法局", DepartmentKind.ENFORCEMENT),
    ("HW", "环卫部门", DepartmentKind.PROFESSIONAL),
    ("YL", "园林部门", DepartmentKind.PROFESSIONAL),
    ("JJ", "公安交警部门", DepartmentKind.PROFESSIONAL),
    ("GA", "公安部门", DepartmentKind.PROFESSIONAL),
    ("SW", "水务部门", DepartmentKind.PROFESSIONAL),
    ("SZ", "市政部门", DepartmentKind.PROFESSIONAL),
    ("PS", "市政排水部门", DepartmentKind.PROFESSIONAL),
    ("QL", "市政部门(桥梁)", DepartmentKind.PROFESSIONAL),
    ("LD", "路灯管理部门", DepartmentKind.PROFESSIONAL),
    ("HB", "生态环境部门", DepartmentKind.PROFESSIONAL),
    ("ZJ", "住建部门", DepartmentKind.PROFESSIONAL),
    ("JT", "交通运输部门", DepartmentKind.PROFESSIONAL),
    ("GD", "供电公司", DepartmentKind.COMPANY),
    ("GS", "供水公司", DepartmentKind.COMPANY),
    ("RQ", "燃气公司", DepartmentKind.COMPANY),
    ("TX", "通信运营商", DepartmentKind.COMPANY),
    ("GJ", "公交公司", DepartmentKind.COMPANY),
    ("GB", "广电网络公司", DepartmentKind.COMPANY),
]
#: Event classes a collector may fix on the spot (自处置 whitelist, city configuration).
SELF_FIX_EVENTS = ["0104", "0201", "0204", "0506", "0601", "0603"]


@dataclass
class Login:
    username: str
    role: str
    department: str
    note: str = ""


def is_empty() -> bool:
    return not User.objects.filter(username="admin").exists()


def _roles() -> dict[str, Role]:
    from urbangrid.core.actions import ensure_roles

    return ensure_roles()


def _user(username: str, name: str, dept: Department | None, roles: list[Role], **extra) -> User:
    user = User(username=username, display_name=name, department=dept, **extra)
    user.set_password(DEMO_PASSWORD)
    user.save()
    user.roles.set(roles)
    return user


@transaction.atomic
def build_demo(
    seed: int = DEMO_SEED,
    *,
    components: int = 20000,
    cases: int = YEAR_CASES,
    recent_days: int | None = None,
    now=None,
    log=None,
    geography: dict | None = None,
) -> dict[str, int]:
    """Build the whole demo city into an empty database; returns counts.

    `cases` reports over the past year, lived through the workflow engine (see `year.py`); with
    `recent_days` only the last that many days of the year are built now and the older days
    later, by `year.build_older_days` (the `demo_year` command). `geography`: arguments of
    `build_demo_geography` (tests build a smaller district)."""
    from urbangrid.catalog.actions import load_categories
    from urbangrid.catalog.demo import build_demo_components
    from urbangrid.catalog.models import Category
    from urbangrid.geo.demo import build_demo_geography
    from urbangrid.geo.models import AdminDivision, DivisionLevel, UnitGrid, WorkGrid

    roles = _roles()
    geo_counts = build_demo_geography(seed=seed, **(geography or {}))
    depts: dict[str, Department] = {}
    for code, name, kind in CENTERS + PROFESSIONAL:
        depts[code] = Department.objects.create(code=code, name=name, kind=kind)
    streets = list(AdminDivision.objects.filter(level=DivisionLevel.STREET).order_by("code"))
    for street in streets:
        office = Department.objects.create(
            code=f"JD{street.code[-3:]}",
            name=f"{street.name}办事处",
            kind=DepartmentKind.STREET_OFFICE,
            division_code=street.code,
        )
        depts[office.code] = office
        UnitGrid.objects.filter(community__parent=street).update(responsible_department=office)

    report = load_categories()
    if report.errors:
        raise RuntimeError(f"categories.csv has errors: {report.errors[:3]}")
    Category.objects.filter(kind="event", code__in=SELF_FIX_EVENTS).update(self_fix_allowed=True)

    admin = _user("admin", "系统管理员", None, [roles[RoleCode.ADMINISTRATOR]], is_staff=True, is_superuser=True)
    center, command = depts["SC"], depts["CC"]
    city = {"scope_city": True}
    _user("operator", "受理员 王芳", center, [roles[RoleCode.OPERATOR]], **city)
    _user("operator2", "受理员 李静", center, [roles[RoleCode.OPERATOR]], **city)
    _user("shiftleader", "值班长 陈刚", center, [roles[RoleCode.SHIFT_LEADER]], **city)
    _user("dispatcher", "派遣员 张伟", command, [roles[RoleCode.DISPATCHER]], **city)
    _user("leader", "中心主任 刘洋", command, [roles[RoleCode.LEADER]], **city)
    _user("officer", "执法队员 赵磊", depts["ZF"], [roles[RoleCode.ENFORCEMENT_OFFICER]])
    _user("legal", "法制审核员 孙丽", depts["ZF"], [roles[RoleCode.LEGAL_REVIEWER]])
    _user("inspector", "检查员 周强", depts["ZJ"], [roles[RoleCode.INSPECTOR]])
    _user("citizen", "市民 吴敏", None, [roles[RoleCode.CITIZEN]])
    for code, dept in depts.items():
        if dept.kind in (DepartmentKind.SUPERVISION_CENTER, DepartmentKind.COMMAND_CENTER):
            continue
        _user(f"handler-{code.lower()}", f"{dept.name} 处置员", dept, [roles[RoleCode.HANDLER]])
    for i, wg in enumerate(WorkGrid.objects.order_by("code"), start=1):
        collector = _user(f"collector{i:02d}", f"监督员 {wg.name}", center, [roles[RoleCode.COLLECTOR]])
        wg.collectors.add(collector)

    n_components = build_demo_components(count=components, seed=seed) if components else 0
    from urbangrid.core.audit import audit
    from urbangrid.open311.actions import issue_application
    from urbangrid.open311.demo import configure_demo_services

    issue_application("演示合作伙伴 / demo partner", key=DEMO_OPEN311_KEY, rate_limit=600, address_rate_limit=600)
    configure_demo_services()
    now = now or timezone.now()
    n_cases = 0
    if cases:
        from .year import build_year

        n_cases = build_year(cases, seed=seed, now=now, recent_days=recent_days, log=log).created
    audit(
        admin,
        "demo.build",
        summary="demo city built",
        object_type="demo",
        seed=seed,
        year_cases=cases,
        year_until=now.isoformat(),
        recent_days=recent_days,
    )
    return {
        **{k: v for k, v in geo_counts.items() if isinstance(v, int)},
        "departments": Department.objects.count(),
        "users": User.objects.count(),
        "components": n_components,
        "cases": n_cases,
    }


def year_to_finish() -> dict | None:
    """How the demo's year was planned, when some of its days are still to be built (else None)."""
    from datetime import datetime

    from urbangrid.core.models import AuditLog

    from .year import missing_days

    row = AuditLog.objects.filter(action="demo.build").order_by("-pk").first()
    if row is None or not row.data.get("year_cases") or not row.data.get("recent_days"):
        return None
    plan = {
        "seed": row.data["seed"],
        "count": row.data["year_cases"],
        "now": datetime.fromisoformat(row.data["year_until"]),
    }
    return plan if missing_days(plan["now"], plan["count"]) else None


def logins() -> list[Login]:
    rows = []
    wanted = [
        "admin",
        "operator",
        "shiftleader",
        "dispatcher",
        "leader",
        "collector01",
        "handler-hw",
        "handler-sz",
        "officer",
        "legal",
        "inspector",
        "citizen",
    ]
    users = {u.username: u for u in User.objects.filter(username__in=wanted).select_related("department")}
    for name in wanted:
        u = users.get(name)
        if u is None:
            continue
        role = ", ".join(str(r.get_code_display()) for r in u.roles.all())
        rows.append(Login(u.username, role, u.department.name if u.department else "—"))
    return rows


def print_logins(url: str) -> None:
    print(f"\nurbangrid is running at {url}/  (admin: {url}/admin/, API docs: {url}/api/v1/docs)")
    print(f"Demo staff accounts — password for every account: {DEMO_PASSWORD}\n")
    print(f"  {'username':<14} {'role':<22} department")
    for row in logins():
        print(f"  {row.username:<14} {row.role:<22} {row.department}")
    extra = User.objects.filter(username__startswith="collector").count()
    print(
        f"\n  collector01 … collector{extra:02d}: one collector per work grid; "
        "handler-<dept>: one handler per department.\n"
    )
    from urbangrid.open311.models import Application, hash_key

    if Application.objects.filter(key_hash=hash_key(DEMO_OPEN311_KEY), is_active=True).exists():
        print(f"Open311 GeoReport v2: {url}/open311/v2/  — demo application api_key: {DEMO_OPEN311_KEY}")
        print(f"Citizen portal: {url}/portal/\n")
