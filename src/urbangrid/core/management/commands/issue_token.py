"""`urbangrid issue_token USERNAME --name NAME`: issue an API token and print its key once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from urbangrid.core.audit import audit
from urbangrid.core.models import ApiToken, User


class Command(BaseCommand):
    help = (
        "Issue an API token (Authorization: Bearer <key>) acting as USERNAME and print its key. "
        "Only a hash is stored: the key is shown this once."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="what the token is for, e.g. the client system")

    def handle(self, *args, **opts) -> None:
        name = opts["name"].strip()
        if not name:
            raise CommandError("--name must not be empty.")
        max_length = ApiToken._meta.get_field("name").max_length
        if len(name) > max_length:
            raise CommandError(f"--name is longer than {max_length} characters.")
        try:
            user = User.objects.get(username=opts["username"])
        except User.DoesNotExist:
            raise CommandError(f"No user “{opts['username']}”.") from None
        if not user.is_active:
            raise CommandError(f"The user “{user.username}” is inactive: a token would not work.")
        key = ApiToken.issue(user, name)
        token = ApiToken.objects.filter(user=user, key_hash=ApiToken.hash(key)).get()
        audit(None, "api_token.issue", token, summary=str(token), user=user.username, via="issue_token")
        self.stderr.write(f"API token “{name}” issued for {user.username}; the key is shown only this once:")
        self.stdout.write(key)
