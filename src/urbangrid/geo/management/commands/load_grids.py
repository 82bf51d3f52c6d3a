"""``load_grids <geojson> [--crs CRS] [--partial]``: load unit grids and print the report."""

import json

from django.core.management.base import BaseCommand, CommandError

from urbangrid.geo.actions import load_grids
from urbangrid.geo.crs import UnknownCRS


class Command(BaseCommand):
    help = "Load unit grids (单元网格) from a GeoJSON FeatureCollection and print the load report."

    def add_arguments(self, parser):
        parser.add_argument("geojson", help="path to the GeoJSON file")
        parser.add_argument("--crs", default="WGS84", help="coordinate system of the file: WGS84, GCJ02 or CGCS2000")
        parser.add_argument("--partial", action="store_true",
                            help="write the valid features even when others are bad (default: all or nothing)")

    def handle(self, *args, **options):
        try:
            with open(options["geojson"], encoding="utf-8-sig") as f:
                data = json.load(f)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        try:
            report = load_grids(data, crs=options["crs"], atomic=not options["partial"])
        except (UnknownCRS, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(report.as_text())
        if report.errors:
            raise CommandError(report.summary())
