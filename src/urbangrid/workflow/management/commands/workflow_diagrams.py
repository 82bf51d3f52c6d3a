"""Write docs/workflows/<name>.md for every registered workflow (diagram + operations table)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from urbangrid.workflow import registry
from urbangrid.workflow.diagram import document


class Command(BaseCommand):
    help = "Write the state diagrams of every registered workflow to docs/workflows/."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--out", default="docs/workflows", help="Folder to write to (default: docs/workflows).")

    def handle(self, *args, out: str, **options) -> None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for model in registry.models():
            for wf in registry.workflows(model):
                path = folder / f"{wf.name}.md"
                path.write_text(document(wf), encoding="utf-8")
                self.stdout.write(f"wrote {path}")
