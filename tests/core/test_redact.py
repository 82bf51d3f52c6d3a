"""API keys and tokens sent in a query string stay out of the logs (Hardening item 5)."""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest

from urbangrid.core.redact import REDACTED, RedactingGunicornLogger, RedactSecretsFilter, redact

KEY = "s3cr3t-Key_value"


@pytest.mark.parametrize(
    "text",
    [
        f"GET /open311/v2/requests.json?api_key={KEY}&service_code=001 HTTP/1.1",
        f"POST /open311/v2/requests.xml?jurisdiction_id=330483&API_KEY={KEY} HTTP/1.1",
        f"GET /api/v1/cases?token={KEY} HTTP/1.1",
        f"GET /x?key={KEY};page=2 HTTP/1.1",
        f"GET /x?access_token={KEY}#frag HTTP/1.1",
        f"GET /x?api%5Fkey={KEY} HTTP/1.1",
        f'"GET /portal/?a=1&api-key={KEY} HTTP/1.1" 200 512',
    ],
)
def test_secret_parameters_are_redacted(text):
    out = redact(text)
    assert KEY not in out and REDACTED in out


def test_other_parameters_are_kept():
    line = "GET /open311/v2/requests.json?service_code=001&monkey=1&service_key=abc&status=open HTTP/1.1"
    assert redact(line) == line
    assert redact("GET /x?api_key=&a=1 HTTP/1.1") == "GET /x?api_key=&a=1 HTTP/1.1"


def test_filter_rewrites_message_and_arguments():
    f = RedactSecretsFilter()
    record = logging.LogRecord("django.server", logging.INFO, __file__, 1, '"%s" %s %s', (
        f"GET /open311/v2/requests.json?api_key={KEY} HTTP/1.1", "201", "77"), None)
    assert f.filter(record) is True
    assert KEY not in record.getMessage() and "201" in record.getMessage()
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, f"bad request /a?token={KEY}", None, None)
    f.filter(record)
    assert KEY not in record.getMessage()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%(r)s", ({"r": f"GET /?key={KEY}"},), None)
    f.filter(record)
    assert KEY not in record.getMessage()


def test_runserver_request_log_is_redacted():
    """The `django.server` handler that settings.LOGGING installs carries the filter."""
    logger = logging.getLogger("django.server")
    handler = logger.handlers[0]
    assert any(isinstance(f, RedactSecretsFilter) for f in handler.filters)
    stream = io.StringIO()
    old = handler.setStream(stream)
    try:
        logger.info('"%s" %s %s', f"GET /open311/v2/requests.json?api_key={KEY} HTTP/1.1", 200, 10)
    finally:
        handler.setStream(old)
    assert "/open311/v2/requests.json?api_key=" + REDACTED in stream.getvalue() and KEY not in stream.getvalue()


def test_root_console_handler_carries_the_filter():
    assert any(isinstance(f, RedactSecretsFilter) for h in logging.getLogger().handlers for f in h.filters)


def test_gunicorn_access_log_is_redacted():
    from gunicorn.config import Config

    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", '%(h)s "%(r)s" %(s)s q=%(q)s "%(f)s" %({authorization}i)s')
    log = RedactingGunicornLogger(cfg)
    stream = io.StringIO()
    for h in log.access_log.handlers:
        h.setStream(stream)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/open311/v2/requests.json?api_key={KEY}",
        "PATH_INFO": "/open311/v2/requests.json",
        "QUERY_STRING": f"api_key={KEY}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_REFERER": f"https://cg.example.gov.cn/?token={KEY}",
    }
    req = SimpleNamespace(headers=[("AUTHORIZATION", f"Bearer {KEY}")])
    resp = SimpleNamespace(status="200 OK", sent=10, headers=[])
    log.access(resp, req, environ, timedelta(milliseconds=5))
    out = stream.getvalue()
    assert "203.0.113.7" in out and "/open311/v2/requests.json?api_key=" in out
    assert KEY not in out and out.count(REDACTED) == 4


def test_serve_uses_the_redacting_logger(monkeypatch):
    """`urbangrid serve` configures gunicorn with the redacting logger class."""
    from gunicorn.app import base

    from urbangrid import cli

    seen = {}

    def fake_run(app):
        app.load_config()
        seen["logger_class"] = app.cfg.logger_class
        seen["accesslog"] = app.cfg.accesslog

    monkeypatch.setattr(base.BaseApplication, "run", fake_run)
    monkeypatch.setattr(base.BaseApplication, "__init__", lambda self: setattr(self, "cfg", _cfg()))
    cli._serve("127.0.0.1", 8000, 1)
    assert seen["logger_class"] is RedactingGunicornLogger and seen["accesslog"] == "-"


def _cfg():
    from gunicorn.config import Config

    return Config()
