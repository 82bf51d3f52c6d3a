"""Sign-in lock-out: django-axes per username and address, plus a limit per address.

django-axes counts failures per username and client address (`AXES_LOCKOUT_PARAMETERS`) and
locks that pair after `AXES_FAILURE_LIMIT` failures. That alone lets one address try one
password on each of many accounts. `AddressLimitedAxesHandler` adds a second, higher limit
counted per address across all usernames (`URBANGRID_ADDRESS_FAILURE_LIMIT`, within the same
cool-off time): once reached, every sign-in from that address is refused until it cools off.
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The client address: `URBANGRID_CLIENT_ADDRESS_HEADER` (first entry) behind a proxy,
    REMOTE_ADDR otherwise (the same rule as the Open311 rate limits); None when it is not an IP
    address (axes stores it in an address column: PostgreSQL refuses anything else)."""
    import ipaddress

    header = settings.URBANGRID.get("CLIENT_ADDRESS_HEADER", "")
    value = request.META.get(header, "") if header else ""
    candidate = (value.split(",")[0].strip() or request.META.get("REMOTE_ADDR", ""))[:60]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def address_failure_limit() -> int:
    return int(getattr(settings, "URBANGRID_ADDRESS_FAILURE_LIMIT", 20))


class AddressLimitedAxesHandler(AxesDatabaseHandler):
    """The database handler of django-axes with an extra lock per client address."""

    def address_failures(self, request: HttpRequest) -> int:
        address = getattr(request, "axes_ip_address", None)
        if not address:
            return 0
        attempts = AccessAttempt.objects.filter(ip_address=address)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0

    def is_address_locked(self, request: HttpRequest) -> bool:
        limit = address_failure_limit()
        locked = bool(settings.AXES_LOCK_OUT_AT_FAILURE and limit > 0 and self.address_failures(request) >= limit)
        if locked:
            request.urbangrid_address_locked = True  # the lock-out page says why
        return locked

    def is_locked(self, request: HttpRequest, credentials: dict | None = None) -> bool:
        return super().is_locked(request, credentials) or self.is_address_locked(request)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            return
        if self.is_address_locked(request):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
            )
