from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from urbangrid.evaluation.docs import render


class Command(BaseCommand):
    help = "Write docs/indicators.md from the indicator registry."

    def add_arguments(self, parser):
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR).parent.parent / "docs" / "indicators.md"))

    def handle(self, *args, **options):
        with translation.override("en"):
            Path(options["output"]).write_text(render(), encoding="utf-8")
        self.stdout.write(f"wrote {options['output']}")
