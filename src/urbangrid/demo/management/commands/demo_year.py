import os

from django.core.management.base import BaseCommand

from urbangrid.demo.builder import year_to_finish
from urbangrid.demo.year import build_older_days


class Command(BaseCommand):
    help = "Build the older days of the demo year that `load_demo --recent-days` left for later."

    def add_arguments(self, parser):
        parser.add_argument("--nice", type=int, default=0, help="lower this process's CPU priority by N")

    def handle(self, *args, nice=0, **options):
        plan = year_to_finish()
        if plan is None:
            self.stdout.write("The demo year is complete.")
            return
        if nice:
            os.nice(nice)
        stats = build_older_days(plan["count"], seed=plan["seed"], now=plan["now"], log=self.stdout.write)
        self.stdout.write(
            self.style.SUCCESS(
                f"demo year complete: {stats.created:,} older cases, {stats.steps:,} steps in {stats.seconds:.0f} s CPU"
            )
        )
