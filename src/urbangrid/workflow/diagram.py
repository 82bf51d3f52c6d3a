"""State diagrams drawn from definitions (流程图): Mermaid text for docs/, rendered in the staff
help by the vendored browser code or any Mermaid viewer. `urbangrid workflow_diagrams` writes
docs/workflows/<name>.md; a test fails when a committed diagram is stale."""

from __future__ import annotations

import re

from django.utils import translation

from .definition import Workflow


def _id(state: str) -> str:
    return re.sub(r"\W", "_", state)


def mermaid(wf: Workflow) -> str:
    """The definition as a Mermaid state diagram (labels in English, codes as node names)."""
    with translation.override("en"):
        lines = ["stateDiagram-v2"]
        for code, label in wf.states.items():
            lines.append(f'    state "{label}" as {_id(code)}')
        for t in wf.transitions:
            who = "system" if t.system else ", ".join(t.roles)
            label = f"{t.name} ({who})"
            if t.is_creation:
                lines.append(f"    [*] --> {_id(t.target or '')}: {label}")
                continue
            for source in t.sources:
                target = t.target or source
                lines.append(f"    {_id(source)} --> {_id(target)}: {label}")
        for state in sorted(wf.final):
            lines.append(f"    {_id(state)} --> [*]")
    return "\n".join(lines) + "\n"


def document(wf: Workflow) -> str:
    """A Markdown page with the diagram and the table of operations and their inputs."""
    with translation.override("en"):
        out = [
            f"# Workflow `{wf.name}`",
            "",
            "Generated from the definition by `urbangrid workflow_diagrams`; do not edit by hand.",
            "",
            "```mermaid",
            mermaid(wf).rstrip(),
            "```",
            "",
            "| operation | from | to | roles | inputs |",
            "|---|---|---|---|---|",
        ]
        for t in wf.transitions:
            inputs = ", ".join(f"{i.name}{'*' if i.required else ''} ({i.type})" for i in t.inputs) or "—"
            who = "system" if t.system else ", ".join(t.roles)
            out.append(
                f"| {t.name} | {', '.join(t.sources) or '(new)'} | {t.target or '(same)'} | {who} | {inputs} |"
            )
        out.append("")
        out.append("`*` required.")
    return "\n".join(out) + "\n"


def _layers(wf: Workflow) -> list[list[str]]:
    """States in columns by their distance (in transitions) from the first state reported."""
    start = next((t.target for t in wf.transitions if t.is_creation and t.target), next(iter(wf.states)))
    depth = {start: 0}
    queue = [start]
    while queue:
        state = queue.pop(0)
        for t in wf.transitions:
            if state in t.sources and t.target and t.target not in depth:
                depth[t.target] = depth[state] + 1
                queue.append(t.target)
    for state in wf.states:  # unreachable states go last
        depth.setdefault(state, max(depth.values()) + 1)
    layers: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for state in wf.states:
        layers[depth[state]].append(state)
    return layers


def svg(wf: Workflow, labels: bool = True) -> str:
    """The definition as an SVG picture (for the staff help): states as boxes in columns by
    distance from the start, one arrow per source → target pair (operation names on it),
    final states drawn with a double border. Presentation attributes only (no style): it may be
    shown under a strict Content-Security-Policy."""
    from html import escape

    box_w, box_h, gap_x, gap_y, margin = 170, 40, 110, 44, 20
    layers = _layers(wf)
    pos: dict[str, tuple[int, int]] = {}
    height = 0
    for col, states in enumerate(layers):
        for row, state in enumerate(states):
            pos[state] = (margin + col * (box_w + gap_x), margin + row * (box_h + gap_y))
        height = max(height, margin * 2 + len(states) * (box_h + gap_y))
    width = margin * 2 + len(layers) * (box_w + gap_x)
    edges: dict[tuple[str, str], list[str]] = {}
    for t in wf.transitions:
        for source in t.sources:
            target = t.target or source
            edges.setdefault((source, target), []).append(t.name)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        "<title>" + escape(str(wf.label or wf.name)) + "</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
    ]
    for (source, target), names in edges.items():
        if source == target:
            continue
        (x1, y1), (x2, y2) = pos[source], pos[target]
        ax, ay = x1 + box_w / 2, y1 + box_h / 2
        bx, by = x2 + box_w / 2, y2 + box_h / 2
        # leave and enter at the box edges facing each other
        ax += box_w / 2 if bx > ax else -box_w / 2 if bx < ax else 0
        bx += -box_w / 2 if bx > ax else box_w / 2 if bx < ax else 0
        if x1 == x2:
            ay, by = (y1 + box_h, y2) if y2 > y1 else (y1, y2 + box_h)
        bend = 30 if bx <= ax else -12
        cx, cy = (ax + bx) / 2, (ay + by) / 2 + bend
        out.append(
            f'<path d="M {ax:.0f} {ay:.0f} Q {cx:.0f} {cy:.0f} {bx:.0f} {by:.0f}" fill="none" '
            'stroke="#777" stroke-width="1" marker-end="url(#arrow)"/>'
        )
        if labels:
            text = escape(", ".join(names))
            out.append(f'<text x="{cx:.0f}" y="{cy - 2:.0f}" text-anchor="middle" fill="#333">{text}</text>')
    for state, (x, y) in pos.items():
        final = state in wf.final
        out.append(
            f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" fill="{"#eef3ee" if final else "#eef2f8"}" '
            f'stroke="#345" stroke-width="{2.5 if final else 1}"/>'
        )
        out.append(
            f'<text x="{x + box_w / 2:.0f}" y="{y + 16}" text-anchor="middle" font-weight="bold">'
            f"{escape(wf.state_label(state))}</text>"
        )
        out.append(
            f'<text x="{x + box_w / 2:.0f}" y="{y + 31}" text-anchor="middle" fill="#555">{escape(state)}</text>'
        )
        loops = edges.get((state, state))
        if loops and labels:
            out.append(
                f'<text x="{x + box_w / 2:.0f}" y="{y + box_h + 11}" text-anchor="middle" fill="#777">'
                f"↻ {escape(', '.join(loops[:3]) + (f' +{len(loops) - 3}' if len(loops) > 3 else ''))}</text>"
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"
