from django.core.management.base import BaseCommand

from urbangrid.evaluation import facts


class Command(BaseCommand):
    help = "Recompute the evaluation facts and daily counters from the history."

    def handle(self, *args, **options):
        result = facts.rebuild(log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"rebuilt: {result}"))
