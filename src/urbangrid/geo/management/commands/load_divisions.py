"""``load_divisions <csv>``: load administrative divisions (columns code, name, [parent], [level], [geometry])."""

import csv

from django.core.management.base import BaseCommand, CommandError

from urbangrid.geo.actions import load_divisions


class Command(BaseCommand):
    help = "Load administrative divisions (行政区划) from a UTF-8 CSV: code,name[,parent,level,geometry]."

    def add_arguments(self, parser):
        parser.add_argument("csv", help="path to the CSV file")

    def handle(self, *args, **options):
        try:
            with open(options["csv"], encoding="utf-8-sig", newline="") as f:
                rows = list(csv.DictReader(f))
        except OSError as exc:
            raise CommandError(str(exc)) from None
        report = load_divisions(rows)
        self.stdout.write(report.as_text())
        if report.errors:
            raise CommandError(report.summary())
