from django.core.management.base import BaseCommand, CommandError

from urbangrid.evaluation import facts


class Command(BaseCommand):
    help = "Prove the evaluation facts, daily counters and cohort counts equal a recomputation from the history."

    def handle(self, *args, **options):
        problems = facts.check()
        for p in problems:
            self.stdout.write(p)
        if problems:
            raise CommandError("the evaluation facts differ from the history: run `urbangrid rebuild_facts`")
        self.stdout.write(self.style.SUCCESS("evaluation facts equal the history"))
