"""The configuration of delivery: each value from a Django setting of the same name (a settings
module of your own) or else the environment. See docs/configuration.md."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from .senders import EmailSender, LoggingSender, Sender, SmsGatewaySender, WebhookSender

logger = logging.getLogger("urbangrid.notify")


def value(name: str, default: Any = "") -> Any:
    found = getattr(settings, name, None)
    if found is None:
        found = os.environ.get(name)
    return default if found is None or found == "" else found


def number(name: str, default: float) -> float:
    try:
        return float(value(name, default))
    except (TypeError, ValueError):
        logger.error("%s is not a number; using %s", name, default)
        return default


def max_attempts() -> int:
    return max(1, int(number("URBANGRID_NOTIFY_MAX_ATTEMPTS", 6)))


def retry_seconds() -> float:
    return max(1.0, number("URBANGRID_NOTIFY_RETRY_SECONDS", 30))


def base_url() -> str:
    return str(value("URBANGRID_NOTIFY_BASE_URL", "")).rstrip("/")


def _params(raw: Any) -> dict[str, str]:
    if isinstance(raw, dict):
        return raw
    return json.loads(raw) if raw else {}


def _builtin(name: str) -> Sender:
    timeout = number("URBANGRID_NOTIFY_TIMEOUT", 10)
    if name == "log":
        return LoggingSender()
    if name == "webhook":
        return WebhookSender(
            str(value("URBANGRID_NOTIFY_WEBHOOK_URL")), str(value("URBANGRID_NOTIFY_WEBHOOK_SECRET")), timeout
        )
    if name == "email":
        return EmailSender(value("URBANGRID_NOTIFY_EMAIL_FROM", None))
    if name == "sms":
        return SmsGatewaySender(
            str(value("URBANGRID_NOTIFY_SMS_URL")),
            str(value("URBANGRID_NOTIFY_SMS_METHOD", "GET")),
            _params(value("URBANGRID_NOTIFY_SMS_PARAMS", "")),
            timeout,
        )
    sender = import_string(name)
    made = sender() if isinstance(sender, type) else sender
    if not isinstance(made, Sender):
        raise TypeError(f"{name} is not a urbangrid.notify.senders.Sender")
    return made


def sender_names() -> list[str]:
    raw = value("URBANGRID_NOTIFY_SENDERS", "log")
    names = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
    return [n.strip() for n in names if n and n.strip() and n.strip().lower() != "none"]


def senders() -> dict[str, Sender]:
    """The configured senders by name; a misconfigured one is left out (and logged), so that a
    wrong setting never stops a workflow step."""
    found: dict[str, Sender] = {}
    for name in sender_names():
        try:
            sender = _builtin(name)
        except Exception:
            logger.exception("notification sender %r is not configured correctly; skipped", name)
            continue
        sender.name = name
        found[name] = sender
    return found
