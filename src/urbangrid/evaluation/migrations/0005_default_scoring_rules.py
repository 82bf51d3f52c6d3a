"""Default scoring rules (考核办法) shipped with urbangrid: one dated version, valid from
2000-01-01, for every scored object type, following §8 of the domain reference — the composite
weightings of §8.3–8.5 (a rate without denominator counts as 100, as in the registry's
composites), the levels ≥ 90 优秀 / ≥ 80 良好 / ≥ 60 合格 / else 不合格 (§8.6), a deduction of
0.2 points per case sent back after a failed check for departments (金华, §8.7) and, for streets,
50 yuan per percentage point above or below a 90 % closure rate. A type that already has a rule
(a bureau's own) gets none. Bureaus change them in the admin by adding a new version.

The data is frozen here (historical models; no custom save(): the version is set here)."""

from datetime import date

from django.db import migrations

VALID_FROM = date(2000, 1, 1)
LEVELS = [[90, "优秀"], [80, "良好"], [60, "合格"], [0, "不合格"]]
NOTE = "urbangrid 默认考核办法（《数字化城市管理》综合评价 §8），可在后台新增版本修改。"


def w(indicator, weight, label, *, missing=None, invert=False):
    return {
        "kind": "weighted",
        "indicator": indicator,
        "weight": weight,
        "label": label,
        "missing_value": missing,
        "invert": invert,
    }


def region_terms():
    # §8.5: 监督举报率分值 × 10 % + 立案数分值 × 20 % + 结案率分值 × 30 % + 按期结案率分值 × 40 %
    return [
        w("region_public_rate", "0.1", "监督举报率分值（100 − 监督举报率）× 10%", missing="0", invert=True),
        w("region_grid_score", "0.2", "立案数分值 × 20%", missing="100"),
        w("region_closure_rate", "0.3", "结案率 × 30%", missing="100"),
        w("region_on_time_closure_rate", "0.4", "按期结案率 × 40%", missing="100"),
    ]


DEFAULT_RULES = {
    "street": {
        "name": "街道（乡镇）综合考核（默认）",
        "terms": [
            *region_terms(),
            {
                "kind": "money",
                "indicator": "region_closure_rate",
                "label": "奖惩：结案率高于 90% 每个百分点奖 50 元，低于每个百分点扣 50 元",
                "target": "90",
                "above": "50",
                "below": "50",
                "cap": "1000",
            },
        ],
    },
    "district": {"name": "区（县）综合考核（默认）", "terms": region_terms()},
    "community": {"name": "社区综合考核（默认）", "terms": region_terms()},
    "work_grid": {"name": "工作网格综合考核（默认）", "terms": region_terms()},
    "unit_grid": {"name": "单元网格综合考核（默认）", "terms": region_terms()},
    "department": {
        "name": "专业部门综合考核（默认）",
        # §8.4: 立案数分值 × 10 % + 结案率分值 × 30 % + 按期处置率分值 × 30 % + 返工率分值 × 30 %;
        # 金华: −0.2 per case sent back after a failed check, at most 5 points
        "terms": [
            w("dept_registered_score", "0.1", "立案数分值 × 10%", missing="100"),
            w("dept_closure_rate", "0.3", "结案率 × 30%", missing="100"),
            w("dept_on_time_handling_rate", "0.3", "按期处置率 × 30%", missing="100"),
            w("dept_rework_rate", "0.3", "返工率分值（100 − 返工率）× 30%", missing="0", invert=True),
            {
                "kind": "deduction",
                "indicator": "dept_reworked",
                "label": "返工扣分：每件核查不通过退回 −0.2 分，最多扣 5 分",
                "per_unit": "0.2",
                "cap": "5",
            },
        ],
    },
    "collector": {
        "name": "监督员考核（默认）",
        # §8.3: 有效上报率 × 40 % + 漏报率分值 × 20 % + 按时核实率 × 20 % + 按时核查率 × 20 %
        "terms": [
            w("collector_valid_rate", "0.4", "有效上报率 × 40%", missing="100"),
            w("collector_missed_rate", "0.2", "漏报率分值（100 − 漏报率）× 20%", missing="0", invert=True),
            w("collector_verify_rate", "0.2", "按时核实率 × 20%", missing="100"),
            w("collector_check_rate", "0.2", "按时核查率 × 20%", missing="100"),
        ],
    },
    "operator": {
        "name": "受理员考核（默认）",
        # §8.3: 受理数分值 × 25 % + 核实按时派发率 × 40 % + 核查按时派发率 × 35 %
        "terms": [
            w("operator_accepted_score", "0.25", "受理数分值 × 25%", missing="0"),
            w("operator_verify_sent_rate", "0.4", "核实按时派发率 × 40%", missing="100"),
            w("operator_check_sent_rate", "0.35", "核查按时派发率 × 35%", missing="100"),
        ],
    },
    "shift_leader": {
        "name": "值班长考核（默认）",
        # §8.3: 按时立案率 × 25 % + 准确立案率 × 40 % + 按时结案率 × 35 %
        "terms": [
            w("shift_registered_rate", "0.25", "按时立案率 × 25%", missing="100"),
            w("shift_accurate_rate", "0.4", "准确立案率 × 40%", missing="100"),
            w("shift_closed_rate", "0.35", "按时结案率 × 35%", missing="100"),
        ],
    },
    "dispatcher": {
        "name": "派遣员考核（默认）",
        # §8.3: 派遣数分值 × 20 % + 按时派遣率 × 40 % + 准确派遣率 × 40 %
        "terms": [
            w("dispatcher_dispatched_score", "0.2", "派遣数分值 × 20%", missing="0"),
            w("dispatcher_on_time_rate", "0.4", "按时派遣率 × 40%", missing="100"),
            w("dispatcher_accurate_rate", "0.4", "准确派遣率 × 40%", missing="100"),
        ],
    },
}


def install(ScoringRule, ScoringTerm, object_types=None):
    """Create the default rule of every object type (or of `object_types`) that has no rule yet.
    Returns the rules created."""
    created = []
    for object_type, spec in DEFAULT_RULES.items():
        if object_types is not None and object_type not in object_types:
            continue
        if ScoringRule.objects.filter(object_type=object_type).exists():
            continue
        rule = ScoringRule.objects.create(
            object_type=object_type,
            name=spec["name"],
            version=1,
            valid_from=VALID_FROM,
            active=True,
            base_points=0,
            levels=LEVELS,
            note=NOTE,
        )
        for order, term in enumerate(spec["terms"]):
            ScoringTerm.objects.create(rule=rule, order=order, **term)
        created.append(rule)
    return created


def forwards(apps, schema_editor):
    install(apps.get_model("evaluation", "ScoringRule"), apps.get_model("evaluation", "ScoringTerm"))


def backwards(apps, schema_editor):
    ScoringRule = apps.get_model("evaluation", "ScoringRule")
    names = {spec["name"] for spec in DEFAULT_RULES.values()}
    ScoringRule.objects.filter(valid_from=VALID_FROM, name__in=names, note=NOTE, published_months__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0004_covering_indexes"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
