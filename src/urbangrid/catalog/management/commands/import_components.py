"""``urbangrid import_components <file>``: import a component survey (部件普查) file."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from urbangrid.catalog.actions import import_components
from urbangrid.catalog.importing import FORMATS


class Command(BaseCommand):
    help = "Import components from CSV, GeoJSON or .xlsx; prints every rejected row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--format", choices=FORMATS, help="default: from the file name")
        parser.add_argument("--atomic", action="store_true", help="write nothing if any row is bad")
        parser.add_argument("--crs", default="WGS84", help="WGS84 (default), GCJ02 or CGCS2000")

    def handle(self, *args: Any, **options: Any) -> None:
        report = import_components(
            options["file"], fmt=options["format"], atomic=options["atomic"], crs=options["crs"],
        )
        for error in report.errors:
            self.stderr.write(str(error))
        self.stdout.write(report.summary())
        if not report.ok:
            raise SystemExit(1)
