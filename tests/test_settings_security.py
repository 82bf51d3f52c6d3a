"""Settings a production server depends on: no public SECRET_KEY, `check --deploy` clean with the
documented HTTPS variables (Hardening items 1 and 2). The server is started in a subprocess with
exactly the environment under test."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from urbangrid.settings import proxy_ssl_header, tile_source

#: Variables that would opt in to a key or change the checks; the subprocesses start without them.
_STRIPPED = {
    "PYTEST_VERSION",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by the browser tests in this process
    "SECRET_KEY",
    "URBANGRID_DEMO",
    "DEBUG",
    "ALLOWED_HOSTS",
    "DJANGO_SETTINGS_MODULE",
    "URBANGRID_HTTPS",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
}

PRODUCTION = {
    "ALLOWED_HOSTS": "cg.example.gov.cn",
    "CSRF_TRUSTED_ORIGINS": "https://cg.example.gov.cn",
    "URBANGRID_HTTPS": "true",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
    "URBANGRID_TILE_URL": "https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&l={z}",
}


def urbangrid(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in _STRIPPED}
    environ.update(URBANGRID_DATA_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-m", "urbangrid.cli", *args],
        env=environ,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_secret_key_the_server_refuses_to_start(tmp_path):
    for command in (["check"], ["serve", "--port", "0"], ["worker"]):
        r = urbangrid(tmp_path, *command)
        assert r.returncode != 0, command
        assert "SECRET_KEY is not set" in r.stderr and "SECRET_KEY environment variable" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr


def test_wsgi_without_secret_key_refuses_to_load(tmp_path):
    environ = {k: v for k, v in os.environ.items() if k not in _STRIPPED}
    r = subprocess.run(
        [sys.executable, "-c", "import urbangrid.wsgi"], env=environ, cwd=tmp_path, capture_output=True, text=True
    )
    assert r.returncode != 0 and "SECRET_KEY is not set" in r.stderr


def test_demo_switch_and_tool_commands_work_without_a_key(tmp_path):
    assert urbangrid(tmp_path, "check", URBANGRID_DEMO="1").returncode == 0
    r = urbangrid(tmp_path, "makemigrations", "--check", "--dry-run")
    assert r.returncode == 0, r.stderr


def test_demo_key_fails_the_deployment_check(tmp_path):
    r = urbangrid(tmp_path, "check", "--deploy", "--fail-level", "WARNING", URBANGRID_DEMO="1", **PRODUCTION)
    assert r.returncode != 0 and "security.W009" in r.stderr


def test_check_deploy_passes_with_the_documented_production_environment(tmp_path):
    r = urbangrid(
        tmp_path, "check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=secrets.token_urlsafe(50), **PRODUCTION
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "System check identified no issues" in r.stdout


def test_check_deploy_warns_without_the_https_variables(tmp_path):
    key = secrets.token_urlsafe(50)
    r = urbangrid(tmp_path, "check", "--deploy", SECRET_KEY=key, ALLOWED_HOSTS="cg.example.gov.cn")
    for code in ("W004", "W008", "W012", "W016"):
        assert f"security.{code}" in r.stderr, code


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", None),
        ("X-Forwarded-Proto", ("HTTP_X_FORWARDED_PROTO", "https")),
        ("X-Forwarded-Proto: https", ("HTTP_X_FORWARDED_PROTO", "https")),
        ("HTTP_X_FORWARDED_PROTO=https", ("HTTP_X_FORWARDED_PROTO", "https")),
        ("X-Forwarded-Ssl: on", ("HTTP_X_FORWARDED_SSL", "on")),
    ],
)
def test_proxy_ssl_header_parsing(value, expected):
    assert proxy_ssl_header(value) == expected


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("", None),
        ("/tiles/{z}/{x}/{y}.png", None),
        ("https://tiles.example.gov.cn/{z}/{x}/{y}.png", "https://tiles.example.gov.cn"),
        ("https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}", "https://*.tianditu.gov.cn"),
        ("http://10.1.2.3:8080/tiles/{z}/{x}/{y}.png", "http://10.1.2.3:8080"),
        ("https://tiles.{s}.example.cn/{z}/{x}/{y}.png", "https:"),
    ],
)
def test_tile_host_source_for_the_csp(url, source):
    assert tile_source(url) == source
