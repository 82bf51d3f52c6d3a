from django.core.management.base import BaseCommand

from urbangrid.demo.builder import DEMO_SEED, build_demo, is_empty


class Command(BaseCommand):
    help = "Load the demo city (演示城市) into the database."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="do nothing when the database already has data")
        parser.add_argument("--seed", type=int, default=DEMO_SEED)
        parser.add_argument("--components", type=int, default=20000)
        parser.add_argument("--cases", type=int, default=300)

    def handle(self, *args, if_empty=False, seed=DEMO_SEED, components=20000, cases=300, **options):
        if not is_empty():
            if if_empty:
                self.stdout.write("The database already holds data; the demo city is not loaded again.")
                return
            self.stderr.write("The database is not empty: load the demo only into a new database.")
            raise SystemExit(1)
        self.stdout.write("Building the demo city (about a minute)…")
        counts = build_demo(seed, components=components, cases=cases)
        self.stdout.write(self.style.SUCCESS("Demo city loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items())))
