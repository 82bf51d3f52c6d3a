from django.core.management.base import BaseCommand

from urbangrid.cases.actions import sweep_deadlines


class Command(BaseCommand):
    help = "Set due-soon and overdue lights on open cases, notify and escalate (what the worker runs every minute)."

    def handle(self, *args, **options):
        result = sweep_deadlines()
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in result.items()))
