"""Keep credentials out of logs.

Open311 clients may send their `api_key` in the query string, and any client may put a `token`
or `key` there; an access log that writes the raw request line would keep those keys in plain
text for as long as logs are kept. Two pieces redact them:

* `RedactSecretsFilter`, a logging filter (settings.LOGGING puts it on the console handler and on
  the handler of Django's `django.server` request log, which `runserver` writes);
* `RedactingGunicornLogger`, the gunicorn logger class `urbangrid serve` uses for its access
  log (for a gunicorn started by hand: `--logger-class urbangrid.core.redact.RedactingGunicornLogger`).

This module must not import Django models: the logging configuration loads it before the apps.
"""

from __future__ import annotations

import logging
import re
from typing import Any

#: Query-string and form parameters whose values never reach a log (compared case-insensitively;
#: `_` may also be written `-` or `%5F`).
SECRET_PARAMETERS = (
    "api_key",
    "apikey",
    "key",
    "token",
    "access_token",
    "auth_token",
    "refresh_token",
    "secret",
    "client_secret",
    "password",
    "signature",
    "sessionid",
    "csrfmiddlewaretoken",
)
REDACTED = "[redacted]"

#: Request headers gunicorn could log through `%({name}i)s` whose whole value is a credential.
SECRET_HEADERS = frozenset({"{authorization}i", "{cookie}i", "{proxy-authorization}i", "{x-api-key}i"})


def _name_pattern(name: str) -> str:
    return re.escape(name).replace("_", "(?:_|-|%5[fF])")


_PARAM = re.compile(
    r"(?P<lead>(?:^|[?&;\s\"'(])(?:" + "|".join(_name_pattern(n) for n in SECRET_PARAMETERS) + r")=)"
    r"(?P<value>[^&;\s\"'#)]*)",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """`text` with the value of every secret parameter (`api_key=…`, `token=…`, …) replaced."""
    if "=" not in text:
        return text
    return _PARAM.sub(lambda m: m.group("lead") + (REDACTED if m.group("value") else ""), text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes):
        return redact(value.decode("latin-1")).encode("latin-1")
    return value


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record's message and arguments so that secret parameters are redacted.

    Django's `django.server` log passes the request line as an argument (`"%s" %s %s`), gunicorn
    passes a mapping; both are handled. The record is kept (the filter never drops one).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(_redact_value(a) for a in args)
        elif isinstance(args, dict):
            record.args = {k: _redact_value(v) for k, v in args.items()}
        return True


try:  # gunicorn is a dependency, but keep the filter importable without it
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = object  # type: ignore[assignment,misc]


class RedactingGunicornLogger(_GunicornLogger):  # type: ignore[misc,valid-type]
    """Gunicorn's logger with secret query parameters and credential headers redacted from the
    access log atoms (`%(r)s` request line, `%(q)s` query, `%(f)s` referer, `%({…}i)s` headers,
    `%({…}e)s` environ)."""

    def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        atoms = super().atoms(resp, req, environ, request_time)
        for name, value in atoms.items():
            if name in SECRET_HEADERS or name in ("{http_authorization}e", "{http_cookie}e"):
                atoms[name] = REDACTED
            elif isinstance(value, str):
                atoms[name] = redact(value)
        return atoms
