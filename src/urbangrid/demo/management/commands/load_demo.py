from django.core.management.base import BaseCommand

from urbangrid.demo.builder import DEMO_SEED, build_demo, is_empty
from urbangrid.demo.year import YEAR_CASES


class Command(BaseCommand):
    help = "Load the demo city (演示城市) and its year of cases into the database."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="do nothing when the database already has data")
        parser.add_argument("--seed", type=int, default=DEMO_SEED)
        parser.add_argument("--components", type=int, default=20000)
        parser.add_argument(
            "--year-cases",
            "--cases",
            dest="year_cases",
            type=int,
            default=YEAR_CASES,
            help=f"reports over the past 12 months, driven through the workflow engine (default {YEAR_CASES})",
        )
        parser.add_argument(
            "--recent-days",
            type=int,
            default=None,
            help="build only the last N days of the year now; `urbangrid demo_year` builds the older days",
        )

    def handle(self, *args, if_empty=False, seed=DEMO_SEED, components=20000, year_cases=YEAR_CASES, **options):
        if not is_empty():
            if if_empty:
                self.stdout.write("The database already holds data; the demo city is not loaded again.")
                return
            self.stderr.write("The database is not empty: load the demo only into a new database.")
            raise SystemExit(1)
        recent = options.get("recent_days")
        span = f"the last {recent} days of a year of" if recent else "a year of"
        self.stdout.write(f"Building the demo city with {span} {year_cases:,} cases…")
        counts = build_demo(seed, components=components, cases=year_cases, recent_days=recent, log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS("Demo city loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items())))
