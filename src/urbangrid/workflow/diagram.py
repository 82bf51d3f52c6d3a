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
