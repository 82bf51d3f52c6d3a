"""`urbangrid publish_month [2026-10] (--type street … | --all) [--correct --reason "…"]`:
publish a month's scores (or a correction of them) without a Python shell, e.g. monthly from
cron. Without a month: the previous month. A month is published only once it is over; a type
already published is skipped (a rerun changes nothing) unless --correct is given, which creates
a new version with the reason. Every publication is audited (via "command")."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from urbangrid.evaluation import publish
from urbangrid.evaluation.models import SCORED_TYPES
from urbangrid.evaluation.periods import parse_period
from urbangrid.evaluation.scoring import rule_for


def previous_month() -> str:
    today = timezone.localdate()
    y, m = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{y}-{m:02d}"


class Command(BaseCommand):
    help = "Publish the monthly scores and rankings of object types (or correct a published month)."

    def add_arguments(self, parser):
        parser.add_argument("period", nargs="?", help="the month, e.g. 2026-10 (default: the previous month)")
        parser.add_argument(
            "--type",
            dest="types",
            action="append",
            default=[],
            choices=[code for code, _label in SCORED_TYPES],
            help="an object type (repeatable)",
        )
        parser.add_argument("--all", action="store_true", help="every object type with a rule in force")
        parser.add_argument("--correct", action="store_true", help="publish a correction (a new version)")
        parser.add_argument("--reason", default="", help="the reason of a correction (required with --correct)")
        parser.add_argument("--user", default="", help="username written to the audit log as the publisher")

    def handle(self, *args, **opts):
        period = opts["period"] or previous_month()
        try:
            p = publish.month(parse_period(period))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if bool(opts["types"]) == bool(opts["all"]):
            raise CommandError("give --type (one or more) or --all")
        if opts["correct"] and not opts["reason"].strip():
            raise CommandError("a correction needs --reason")
        if not opts["correct"] and opts["reason"].strip():
            raise CommandError("--reason goes with --correct")
        actor = None
        if opts["user"]:
            from urbangrid.core.models import User

            actor = User.objects.filter(username=opts["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"no active user {opts['user']!r}")
        if opts["all"]:
            types = [code for code, _label in SCORED_TYPES if rule_for(code, p.first) is not None]
        else:
            types = list(dict.fromkeys(opts["types"]))
        failed = []
        for object_type in types:
            published = publish.current(p.label, object_type)
            if published is not None and not opts["correct"]:
                self.stdout.write(f"{p.label} {object_type}: already published (version {published.version}), skipped")
                continue
            if published is None and opts["correct"]:
                self.stderr.write(f"{p.label} {object_type}: not published yet, nothing to correct")
                failed.append(object_type)
                continue
            try:
                pm = publish.publish_or_correct(p, object_type, actor, opts["reason"], via="command")
            except publish.ScoringError as exc:
                self.stderr.write(f"{p.label} {object_type}: {exc}")
                failed.append(object_type)
                continue
            what = "published" if pm.version == 1 else "corrected"
            self.stdout.write(
                self.style.SUCCESS(f"{p.label} {object_type}: {what}, version {pm.version}, {len(pm.results)} ranked")
            )
        if failed:
            raise CommandError(f"not published: {', '.join(failed)}")
