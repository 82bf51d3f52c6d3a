"""`urbangrid open311_application NAME`: register a partner application and print its key."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from urbangrid.open311.actions import issue_application


class Command(BaseCommand):
    help = "Register an Open311 partner application and print its API key (shown once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--contact", default="")
        parser.add_argument("--rate-limit", type=int, default=120, help="POSTs per minute for the key")
        parser.add_argument("--address-rate-limit", type=int, default=60, help="POSTs per minute per client address")

    def handle(self, *args, **opts) -> None:
        _app, key = issue_application(
            opts["name"],
            contact=opts["contact"],
            rate_limit=opts["rate_limit"],
            address_rate_limit=opts["address_rate_limit"],
        )
        self.stdout.write(key)
