from django.core.management.base import BaseCommand

from urbangrid.demo.live import run


class Command(BaseCommand):
    help = "Keep the demo city moving: new reports and people acting on open cases (Ctrl-C to stop)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--every", type=float, default=3.0, help="seconds between rounds (default 3)")
        parser.add_argument("--minutes", type=float, default=None, help="stop after this many minutes")

    def handle(self, *args, seed=1, every=3.0, minutes=None, **options):
        totals = run(seed, every=every, minutes=minutes, out=self.stdout.write)
        self.stdout.write(f"{totals['ticks']} rounds, {totals['events']} events")
