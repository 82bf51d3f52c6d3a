"""Verify the hash chain of every workflow object's history; report the first broken link."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from urbangrid.workflow.integrity import verify_chains


class Command(BaseCommand):
    help = "Verify every history chain (each entry's hash and its link to the previous entry)."

    def handle(self, *args, **options) -> None:
        result = verify_chains()
        if result.broken is not None:
            b = result.broken
            raise CommandError(
                f"history chain broken at content type {b.content_type_id}, object {b.object_id}, "
                f"entry #{b.seq} (id {b.pk}): {b.problem}; {result.checked} entries checked before it"
            )
        self.stdout.write(f"{result.checked} history entries in {result.objects} chains verified: intact")
