"""Senders (推送渠道): where notifications go besides the web and phone badge.

A sender gets one `Message` (a notification for one person) and delivers it, or raises: the
outbox (outbox.py) then retries later with backoff. Senders run in the background worker, never
inside a workflow step. Write your own by subclassing `Sender` and naming its dotted path in
URBANGRID_NOTIFY_SENDERS (docs/configuration.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("urbangrid.notify")


class SendError(Exception):
    """The channel refused the message (the outbox retries it)."""


@dataclass(frozen=True)
class Message:
    """What a sender delivers: one notification for one person."""

    notification_id: int
    user: Any
    kind: str
    text: str
    #: a link to the object (absolute when URBANGRID_NOTIFY_BASE_URL is set), or ""
    url: str = ""
    urgent: bool = False

    @property
    def full_text(self) -> str:
        return f"{self.text}\n{self.url}" if self.url else self.text


class Sender:
    """The interface. `name` identifies the sender in the outbox (set from the configuration)."""

    name = ""

    def accepts(self, user: Any) -> bool:
        """Whether this sender can reach `user` at all (an address, a phone number)."""
        return True

    def send(self, message: Message) -> None:
        """Deliver `message`; raise on failure (any exception: the outbox retries)."""
        raise NotImplementedError


class LoggingSender(Sender):
    """The default: writes each message to the log "urbangrid.notify" (level INFO)."""

    name = "log"

    def send(self, message: Message) -> None:
        logger.info(
            "notification %s to %s (%s%s): %s",
            message.notification_id,
            getattr(message.user, "username", message.user),
            message.kind,
            ", urgent" if message.urgent else "",
            message.full_text,
        )


def _post(url: str, body: bytes, content_type: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read(65536)


class WebhookSender(Sender):
    """A WeCom (企业微信) or DingTalk (钉钉) group robot: a JSON POST of a text message to the
    robot's webhook URL. With `secret` (DingTalk 加签) the URL is signed with a timestamp. A
    reply with a non-zero `errcode` is a failure."""

    name = "webhook"

    def __init__(self, url: str, secret: str = "", timeout: float = 10) -> None:
        if not url:
            raise ValueError("WebhookSender needs URBANGRID_NOTIFY_WEBHOOK_URL")
        self.url, self.secret, self.timeout = url, secret, timeout

    def signed_url(self, now_ms: int | None = None) -> str:
        if not self.secret:
            return self.url
        stamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
        digest = hmac.new(self.secret.encode(), f"{stamp}\n{self.secret}".encode(), hashlib.sha256).digest()
        sign = urllib.parse.quote_plus(base64.b64encode(digest).decode())
        joiner = "&" if "?" in self.url else "?"
        return f"{self.url}{joiner}timestamp={stamp}&sign={sign}"

    def payload(self, message: Message) -> dict[str, Any]:
        who = getattr(message.user, "get_full_name", lambda: "")() or getattr(message.user, "username", "")
        content = f"{who}: {message.full_text}" if who else message.full_text
        return {"msgtype": "text", "text": {"content": content}}

    def send(self, message: Message) -> None:
        body = json.dumps(self.payload(message), ensure_ascii=False).encode()
        reply = _post(self.signed_url(), body, "application/json; charset=utf-8", self.timeout)
        try:
            answer = json.loads(reply or b"{}")
        except ValueError:
            return  # not JSON: the HTTP status (2xx) is the answer
        if isinstance(answer, dict) and answer.get("errcode") not in (None, 0, "0"):
            raise SendError(f"webhook refused: {answer.get('errcode')} {answer.get('errmsg', '')}".strip())


class EmailSender(Sender):
    """E-mail through Django's mail (EMAIL_* settings), to people with an address."""

    name = "email"

    def __init__(self, from_email: str | None = None, subject_prefix: str = "[urbangrid] ") -> None:
        self.from_email, self.subject_prefix = from_email or None, subject_prefix

    def accepts(self, user: Any) -> bool:
        return bool(getattr(user, "email", ""))

    def send(self, message: Message) -> None:
        from django.core.mail import send_mail

        first_line = message.text.splitlines()[0] if message.text else message.kind
        subject = (self.subject_prefix + first_line)[:150]
        send_mail(subject, message.full_text, self.from_email, [message.user.email], fail_silently=False)


_PLACEHOLDER = re.compile(r"\{(phone|text|username|kind)\}")


class SmsGatewaySender(Sender):
    """A generic HTTP SMS gateway (短信网关), to people with a phone number.

    `url` is a template with {phone}, {text}, {username} and {kind} (URL-quoted), e.g.
    "https://sms.example/send?mobile={phone}&content={text}". `params` (same placeholders) are
    added to the query string for GET, or sent as a form (POST) or JSON body (POST_JSON)."""

    name = "sms"

    def __init__(
        self, url: str, method: str = "GET", params: dict[str, str] | None = None, timeout: float = 10
    ) -> None:
        if not url:
            raise ValueError("SmsGatewaySender needs URBANGRID_NOTIFY_SMS_URL")
        method = method.upper()
        if method not in ("GET", "POST", "POST_JSON"):
            raise ValueError("URBANGRID_NOTIFY_SMS_METHOD is GET, POST or POST_JSON")
        self.url, self.method, self.params, self.timeout = url, method, dict(params or {}), timeout

    def accepts(self, user: Any) -> bool:
        return bool(getattr(user, "phone", ""))

    @staticmethod
    def _values(message: Message) -> dict[str, str]:
        return {
            "phone": message.user.phone,
            "text": message.full_text,
            "username": getattr(message.user, "username", ""),
            "kind": message.kind,
        }

    def request(self, message: Message) -> tuple[str, bytes | None, str]:
        """(url, body, content type) of the gateway request for `message`."""
        values = self._values(message)
        url = _PLACEHOLDER.sub(lambda m: urllib.parse.quote(values[m.group(1)], safe=""), self.url)
        params = {k: _PLACEHOLDER.sub(lambda m: values[m.group(1)], str(v)) for k, v in self.params.items()}
        if self.method == "GET":
            if params:
                url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
            return url, None, ""
        if self.method == "POST_JSON":
            return url, json.dumps(params, ensure_ascii=False).encode(), "application/json; charset=utf-8"
        return url, urllib.parse.urlencode(params).encode(), "application/x-www-form-urlencoded"

    def send(self, message: Message) -> None:
        url, body, content_type = self.request(message)
        if body is None:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                response.read(65536)
        else:
            _post(url, body, content_type, self.timeout)
