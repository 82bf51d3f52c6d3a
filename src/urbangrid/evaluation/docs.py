"""docs/indicators.md, generated from the registry (`urbangrid write_indicator_docs`)."""

from __future__ import annotations

from .indicators import OBJECT_TYPES, registry
from .rules import DEFAULTS

TITLES = {
    "collector": "监督员 collectors",
    "operator": "受理员 operators",
    "shift_leader": "值班长 shift leaders",
    "dispatcher": "派遣员 dispatchers",
    "department": "专业部门 departments",
    "region": "区域 regions and grids (district, street, community, work grid, unit grid; also per category)",
}


def render() -> str:
    lines = [
        "# Evaluation indicators",
        "",
        "Generated from `src/urbangrid/evaluation/indicators.py` by `urbangrid write_indicator_docs`;",
        "do not edit by hand (a test fails when this file is stale). See docs/evaluation.md.",
        "",
        "Rates are in % with two decimals and empty when the denominator is 0; in a composite, a",
        "rate without a denominator scores 100. Direction: whether a higher value is better.",
        "",
        "## Counting rules (settings.URBANGRID['EVALUATION'])",
        "",
        "| rule | default |",
        "|---|---|",
    ]
    lines += [f"| `{k}` | `{v!r}` |" for k, v in DEFAULTS.items()]
    for obj in OBJECT_TYPES:
        lines += [
            "",
            f"## {TITLES[obj]}",
            "",
            "| code | 指标 | indicator | formula | unit | better |",
            "|---|---|---|---|---|---|",
        ]
        for i in registry(obj):
            formula = i.formula.replace("|", "\\|")
            lines.append(f"| `{i.code}` | {i.name_zh} | {i.name_en} | {formula} | {i.unit} | {i.direction} |")
    return "\n".join(lines) + "\n"
