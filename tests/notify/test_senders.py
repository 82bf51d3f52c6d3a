"""The senders, against a local HTTP server (127.0.0.1, in a thread): nothing leaves the machine."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from django.core import mail

from urbangrid.notify import conf
from urbangrid.notify.senders import (
    EmailSender,
    LoggingSender,
    Message,
    SendError,
    SmsGatewaySender,
    WebhookSender,
)


class Gateway:
    def __init__(self) -> None:
        self.requests: list[SimpleNamespace] = []
        self.reply = b'{"errcode": 0, "errmsg": "ok"}'
        self.status = 200


@pytest.fixture
def gateway() -> Iterator[tuple[Gateway, str]]:
    state = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, body: bytes) -> None:
            state.requests.append(
                SimpleNamespace(method=self.command, path=self.path, body=body, type=self.headers.get("Content-Type"))
            )
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(state.reply)

        def do_GET(self) -> None:
            self._answer(b"")

        def do_POST(self) -> None:
            self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def message(**kw) -> Message:
    user = kw.pop("user", SimpleNamespace(username="hw", phone="13900000000", email="hw@example.cn"))
    user.get_full_name = lambda: "环卫 张三"
    return Message(notification_id=7, user=user, kind="assigned", text="新待办：案件 A1，处置中。", **kw)


def test_webhook_posts_a_wecom_dingtalk_text_message(gateway):
    state, base = gateway
    WebhookSender(base + "/cgi-bin/webhook/send?key=k1").send(message(url="https://ug.example/cases/1/"))
    [req] = state.requests
    assert (req.method, req.path, req.type) == (
        "POST",
        "/cgi-bin/webhook/send?key=k1",
        "application/json; charset=utf-8",
    )
    assert json.loads(req.body) == {
        "msgtype": "text",
        "text": {"content": "环卫 张三: 新待办：案件 A1，处置中。\nhttps://ug.example/cases/1/"},
    }


def test_webhook_errcode_is_a_failure(gateway):
    state, base = gateway
    state.reply = b'{"errcode": 93000, "errmsg": "invalid webhook url"}'
    with pytest.raises(SendError, match="93000 invalid webhook url"):
        WebhookSender(base + "/robot/send").send(message())


def test_webhook_http_error_is_a_failure(gateway):
    state, base = gateway
    state.status = 502
    with pytest.raises(OSError):
        WebhookSender(base + "/robot/send").send(message())


def test_dingtalk_signature():
    sender = WebhookSender("https://oapi.dingtalk.com/robot/send?access_token=t", secret="SECxyz")
    url = sender.signed_url(now_ms=1700000000000)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    expected = base64.b64encode(hmac.new(b"SECxyz", b"1700000000000\nSECxyz", hashlib.sha256).digest()).decode()
    assert query == {"access_token": ["t"], "timestamp": ["1700000000000"], "sign": [expected]}
    assert WebhookSender("https://x.example/hook").signed_url() == "https://x.example/hook"


def test_sms_gateway_get_with_a_url_template(gateway):
    state, base = gateway
    sender = SmsGatewaySender(
        base + "/send?mobile={phone}&content={text}", params={"sign": "城管", "user": "{username}"}
    )
    sender.send(message())
    [req] = state.requests
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(req.path).query)
    assert req.method == "GET"
    assert query == {
        "mobile": ["13900000000"],
        "content": ["新待办：案件 A1，处置中。"],
        "sign": ["城管"],
        "user": ["hw"],
    }


def test_sms_gateway_post_form_and_json(gateway):
    state, base = gateway
    SmsGatewaySender(base + "/sms", "POST", {"to": "{phone}", "msg": "{text}"}).send(message())
    SmsGatewaySender(base + "/sms", "post_json", {"to": "{phone}", "msg": "{text}"}).send(message())
    form, js = state.requests
    assert form.type == "application/x-www-form-urlencoded"
    assert urllib.parse.parse_qs(form.body.decode()) == {"to": ["13900000000"], "msg": ["新待办：案件 A1，处置中。"]}
    assert json.loads(js.body) == {"to": "13900000000", "msg": "新待办：案件 A1，处置中。"}


def test_sms_gateway_needs_a_phone_number_and_a_url():
    sender = SmsGatewaySender("http://127.0.0.1:9/x?to={phone}")
    assert sender.accepts(SimpleNamespace(phone="139")) and not sender.accepts(SimpleNamespace(phone=""))
    with pytest.raises(ValueError):
        SmsGatewaySender("")
    with pytest.raises(ValueError):
        SmsGatewaySender("http://x", method="PUT")


def test_email_sender(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sender = EmailSender("noreply@ug.example")
    assert sender.accepts(SimpleNamespace(email="a@b.cn")) and not sender.accepts(SimpleNamespace(email=""))
    sender.send(message(url="/cases/1/"))
    [sent] = mail.outbox
    assert (sent.subject, sent.to, sent.from_email) == (
        "[urbangrid] 新待办：案件 A1，处置中。",
        ["hw@example.cn"],
        "noreply@ug.example",
    )
    assert sent.body == "新待办：案件 A1，处置中。\n/cases/1/"


def test_logging_sender(caplog):
    with caplog.at_level(logging.INFO, logger="urbangrid.notify"):
        LoggingSender().send(message(urgent=True))
    assert "notification 7 to hw (assigned, urgent): 新待办：案件 A1，处置中。" in caplog.text


def test_configuration_from_settings_or_the_environment(settings, monkeypatch):
    monkeypatch.setenv("URBANGRID_NOTIFY_SENDERS", "log, sms ,email")
    monkeypatch.setenv("URBANGRID_NOTIFY_SMS_URL", "https://sms.example/send?to={phone}")
    monkeypatch.setenv("URBANGRID_NOTIFY_SMS_METHOD", "POST")
    monkeypatch.setenv("URBANGRID_NOTIFY_SMS_PARAMS", '{"text": "{text}"}')
    found = conf.senders()
    assert list(found) == ["log", "sms", "email"]
    assert (found["sms"].method, found["sms"].params) == ("POST", {"text": "{text}"})
    settings.URBANGRID_NOTIFY_SENDERS = ["webhook"]  # a setting wins over the environment
    settings.URBANGRID_NOTIFY_WEBHOOK_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"
    assert [type(s) for s in conf.senders().values()] == [WebhookSender]
    monkeypatch.delenv("URBANGRID_NOTIFY_SENDERS")
    del settings.URBANGRID_NOTIFY_SENDERS
    assert list(conf.senders()) == ["log"]  # the default


def test_a_custom_sender_must_be_a_sender(settings, caplog):
    settings.URBANGRID_NOTIFY_SENDERS = ["urbangrid.notify.senders.Message"]
    assert conf.senders() == {}
    assert "not configured correctly" in caplog.text
