from django.core.management.base import BaseCommand

from urbangrid.evaluation import facts


class Command(BaseCommand):
    help = "Recompute the evaluation facts, daily counters and cohort counts from the history."

    def handle(self, *args, **options):
        result = facts.rebuild(log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"rebuilt: {result}"))
