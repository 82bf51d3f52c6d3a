from django.core.management.base import BaseCommand

from urbangrid.notify import outbox


class Command(BaseCommand):
    help = "Send the notification deliveries that are due now (what the worker does after each step)."

    def handle(self, *args, **options):
        totals = outbox.sweep()
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in totals.items()))
