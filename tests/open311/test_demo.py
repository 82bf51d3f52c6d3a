"""`urbangrid demo` creates a demo Open311 application and prints its key with the logins."""

from __future__ import annotations

from urbangrid.demo.builder import DEMO_OPEN311_KEY, build_demo, print_logins
from urbangrid.open311.actions import application_for


def test_demo_prints_the_open311_key(db, capsys):
    build_demo(components=0, cases=0)
    app = application_for(DEMO_OPEN311_KEY)
    assert app is not None and app.user.has_role("citizen")
    print_logins("http://127.0.0.1:8000")
    out = capsys.readouterr().out
    assert f"api_key: {DEMO_OPEN311_KEY}" in out and "/open311/v2/" in out and "operator" in out
