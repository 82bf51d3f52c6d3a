"""``urbangrid load_categories [path] [--overwrite]``: load the classification dictionary."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from urbangrid.catalog.actions import DEFAULT_CATEGORIES_CSV, SCHEME_MINOR_DIGITS, load_categories


class Command(BaseCommand):
    help = "Load event and component classes (分类字典) from a categories.csv file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", default=str(DEFAULT_CATEGORIES_CSV),
                            help="CSV file (default: the packaged CJ/T 214-2007 dictionary)")
        parser.add_argument("--overwrite", action="store_true",
                            help="replace limits and default departments edited in the admin")
        parser.add_argument("--scheme", default="CJT214_2007", choices=sorted(SCHEME_MINOR_DIGITS))

    def handle(self, *args: Any, **options: Any) -> None:
        report = load_categories(options["path"], scheme=options["scheme"], overwrite=options["overwrite"])
        for error in report.errors:
            self.stderr.write(str(error))
        if not report.ok:
            raise CommandError(report.summary())
        self.stdout.write(self.style.SUCCESS(report.summary()))
