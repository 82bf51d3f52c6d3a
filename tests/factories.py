"""Small factories for tests: plain functions that create valid objects with defaults."""

from __future__ import annotations

import itertools

from urbangrid.core.models import Department, DepartmentKind, Role, User
from urbangrid.core.roles import RoleCode

_seq = itertools.count(1)


def department(name: str | None = None, kind: str = DepartmentKind.PROFESSIONAL, parent=None, **kw) -> Department:
    n = next(_seq)
    return Department.objects.create(
        code=kw.pop("code", f"D{n:04d}"), name=name or f"部门{n}", kind=kind, parent=parent, **kw
    )


def user(*roles: str, department: Department | None = None, username: str | None = None, **kw) -> User:
    n = next(_seq)
    u = User.objects.create_user(
        username=username or f"user{n}", password="Demo-pass-2026", department=department, **kw
    )
    for code in roles:
        role, _ = Role.objects.get_or_create(code=code, defaults={"name": RoleCode(code).label})
        u.roles.add(role)
    return u


# --- a small world for case tests ----------------------------------------------------------

PNG_1PX = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
    b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)


def square(lon: float, lat: float, size: float = 0.001) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]],
    }


class World:
    """Two streets' worth of grids, departments, categories and one user per role."""

    def __init__(self) -> None:
        from decimal import Decimal

        from urbangrid.catalog.models import Category
        from urbangrid.core.actions import ensure_roles
        from urbangrid.core.models import DepartmentKind
        from urbangrid.geo.index import invalidate_index
        from urbangrid.geo.models import AdminDivision, UnitGrid, WorkGrid

        ensure_roles()
        county = AdminDivision.objects.create(code="330483", name="桐乡市", level="county")
        self.street = AdminDivision.objects.create(code="330483001", name="梧桐街道", level="street", parent=county)
        self.community = AdminDivision.objects.create(
            code="330483001001", name="庆丰社区", level="community", parent=self.street
        )
        self.center = department("监督中心", kind=DepartmentKind.SUPERVISION_CENTER, code="SC")
        self.command = department("指挥中心", kind=DepartmentKind.COMMAND_CENTER, code="CC")
        self.sanitation = department("环卫部门", code="HW")
        self.crew = department("环卫一队", code="HW1", parent=self.sanitation)
        self.municipal = department("市政部门", code="SZ")
        self.office = department("梧桐街道办事处", kind=DepartmentKind.STREET_OFFICE, code="JD001")
        self.wg1 = WorkGrid.objects.create(code="WG1", name="梧桐-01", street=self.street)
        self.wg2 = WorkGrid.objects.create(code="WG2", name="梧桐-02", street=self.street)
        self.grids = []
        for i in range(4):
            lon, lat = 120.55 + 0.001 * i, 30.63
            g = UnitGrid.objects.create(
                code=f"330483001001{i + 1:02d}",
                community=self.community,
                work_grid=self.wg1 if i < 2 else self.wg2,
                geometry=square(lon, lat),
                area_m2=10000,
                min_lon=lon,
                min_lat=lat,
                max_lon=lon + 0.001,
                max_lat=lat + 0.001,
                responsible_department=self.office,
            )
            self.grids.append(g)
        invalidate_index()
        major = Category.objects.create(kind="event", code="01", name="市容环境")
        self.garbage = Category.objects.create(
            kind="event",
            code="0102",
            name="暴露垃圾",
            parent=major,
            default_department=self.sanitation,
            urgency="normal",
            dispatch_limit_hours=Decimal("0.5"),
            handle_limit=Decimal("1"),
            handle_unit="working_days",
        )
        self.flyer = Category.objects.create(
            kind="event",
            code="0201",
            name="非法小广告",
            parent=major,
            default_department=self.sanitation,
            handle_limit=Decimal("4"),
            handle_unit="working_hours",
            self_fix_allowed=True,
        )
        cmajor = Category.objects.create(kind="component", code="01", name="公用设施")
        self.cover = Category.objects.create(
            kind="component",
            code="0102",
            name="污水井盖",
            parent=cmajor,
            default_department=self.municipal,
            urgency="urgent",
            dispatch_limit_hours=Decimal("0.17"),
            handle_limit=Decimal("2"),
            handle_unit="hours",
        )
        self.collector = user("collector", department=self.center, username="col1")
        self.collector2 = user("collector", department=self.center, username="col2")
        self.wg1.collectors.add(self.collector)
        self.wg2.collectors.add(self.collector2)
        self.operator = user("operator", department=self.center, username="op", scope_city=True)
        self.shift = user("shift_leader", department=self.center, username="shift", scope_city=True)
        self.dispatcher = user("dispatcher", department=self.command, username="disp", scope_city=True)
        self.leader = user("leader", department=self.command, username="boss", scope_city=True)
        self.handler = user("handler", department=self.sanitation, username="hw")
        self.crew_handler = user("handler", department=self.crew, username="hw1")
        self.other_handler = user("handler", department=self.municipal, username="sz")

    def point(self, i: int = 0) -> tuple[float, float]:
        g = self.grids[i]
        return g.min_lon + 0.0004, g.min_lat + 0.0004

    def photo(self, who) -> str:
        from urbangrid.cases.actions import upload_attachment

        return upload_attachment(who, PNG_1PX, "p.png").token

    def close_public(self, case) -> None:
        """Drive a public report through the whole loop to closed (verification included)."""
        from urbangrid.cases.actions import perform

        steps = [
            ("send_verify", self.operator, {}),
            ("verify", self.collector, {"exists": True, "photos": [self.photo(self.collector)]}),
            ("accept", self.operator, {}),
            ("register", self.shift, {}),
            ("dispatch", self.dispatcher, {"department": self.sanitation.pk}),
            ("feedback", self.handler, {"result": "已清运", "photos": [self.photo(self.handler)]}),
            ("send_check", self.operator, {}),
            ("check_pass", self.collector, {"photos": [self.photo(self.collector)]}),
            ("close", self.shift, {}),
        ]
        for name, who, data in steps:
            perform(case, name, who, version=case.version, data=data)
            case.refresh_from_db()


def report_at(world: World, when, *, by=None, source="collector", category=None, i=0, **kw):
    """A case reported at `when` (with a photo and a reporter's phone), through the real action."""
    from urbangrid.cases import actions

    lon, lat = world.point(i)
    kw.setdefault("reporter", {"phone": "13800000000"})
    return actions.create_case(
        by or world.collector,
        source=source,
        category=category or world.garbage,
        description="路边有垃圾堆",
        lon=lon,
        lat=lat,
        photos=[world.photo(by or world.collector)],
        now=when,
        **kw,
    )


def act(case, name: str, who, when=None, **data):
    """Perform a loop operation at `when` as `who` (at the case's current version), then reload."""
    from urbangrid.cases import actions

    entry = actions.perform(case, name, who, version=case.version, data=data, now=when)
    case.refresh_from_db()
    return entry
