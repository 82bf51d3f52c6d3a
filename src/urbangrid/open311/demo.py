"""The Open311 part of the demo city: a partner key (see demo.builder), one service asking
an attribute of every GeoReport datatype and one batch service."""

from __future__ import annotations

from django.db import transaction

from .models import AttributeValue, Datatype, Service, ServiceAttribute, ServiceType

#: 废弃车辆 (abandoned vehicle): asks questions of every datatype.
ATTRIBUTES_SERVICE = "0107"
#: 非法小广告 (illegal flyers): batch, the worker creates the case.
BATCH_SERVICE = "0201"

_ATTRIBUTES = [
    # code, datatype, required, question, format hint, list values
    ("plate", Datatype.STRING, False, "车牌号（如有）/ Licence plate, if any", "浙F12345", []),
    (
        "vehicle",
        Datatype.SINGLEVALUELIST,
        True,
        "车辆类型 / Kind of vehicle",
        "",
        [
            ("car", "小汽车 / car"),
            ("ebike", "电动自行车 / e-bike"),
            ("bicycle", "自行车 / bicycle"),
            ("other", "其他 / other"),
        ],
    ),
    (
        "condition",
        Datatype.MULTIVALUELIST,
        False,
        "车况 / Condition",
        "",
        [("rusty", "锈蚀 / rusty"), ("flat", "轮胎瘪 / flat tyres"), ("broken", "车窗破损 / broken windows")],
    ),
    ("days", Datatype.NUMBER, False, "大约停放了多少天？/ About how many days has it been there?", "12", []),
    ("first_seen", Datatype.DATETIME, False, "最早看到的时间 / First seen", "2026-05-17T09:30+08:00", []),
    ("details", Datatype.TEXT, False, "补充说明 / Anything else", "", []),
]


@transaction.atomic
def configure_demo_services() -> tuple[Service, Service]:
    """Create (or reset) the demo's attribute service and batch service."""
    from urbangrid.catalog.models import Category

    cats = {c.code: c for c in Category.objects.filter(kind="event", code__in=[ATTRIBUTES_SERVICE, BATCH_SERVICE])}
    attributes, _created = Service.objects.update_or_create(
        category=cats[ATTRIBUTES_SERVICE],
        defaults={
            "type": ServiceType.REALTIME,
            "description": "废弃车辆：请回答几个问题 / Abandoned vehicle: a few questions",
            "keywords": "僵尸车,abandoned car",
        },
    )
    attributes.attributes.all().delete()
    for order, (code, datatype, required, question, hint, values) in enumerate(_ATTRIBUTES, start=1):
        attr = ServiceAttribute.objects.create(
            service=attributes,
            code=code,
            datatype=datatype,
            required=required,
            order=order,
            description=question,
            datatype_description=hint,
        )
        for i, (key, name) in enumerate(values, start=1):
            AttributeValue.objects.create(attribute=attr, key=key, name=name, order=i)
    batch, _created = Service.objects.update_or_create(
        category=cats[BATCH_SERVICE],
        defaults={"type": ServiceType.BATCH, "description": "批量受理 / Queued: a token is returned first"},
    )
    return attributes, batch
