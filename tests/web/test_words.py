"""No untranslated words and no raw codes on staff pages, in Chinese and in English.

An administrator (with every workbench role) walks the staff pages over demo-like data: the web
workbenches, the case page, the desks, the map, help, the dashboard, the evaluation pages, the
phone app, the public portal, and the admin's index and case list/page.

- zh-Hans: every msgid of our catalogue shown verbatim in English is a failure (a text node,
  an option, a button's value or an aria-label/title/placeholder equal to the msgid, or holding
  a msgid of several words; placeholders match anything). Msgids translated as themselves
  (proper names, codes) and those of `IGNORED` are skipped.
- both languages: raw values (`True`, `False`, `None`, state/source/request codes whose label
  differs from the code) shown as a whole text are failures.
"""

from __future__ import annotations

import gettext
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

import urbangrid
from tests.cases.test_loop import report, to_handling
from tests.factories import user as make_user
from urbangrid.cases.models import PendingRequest, Source, State
from urbangrid.cases.rules import URGENCIES
from urbangrid.core.roles import RoleCode
from urbangrid.web import help as staff_help
from urbangrid.workflow import registry

MO = Path(urbangrid.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"

#: proper names and codes that stay English in Chinese
IGNORED = {"urbangrid", "Open311", "Excel", "PDF", "API", "GeoJSON", "OpenStreetMap", "Leaflet", "SVG", "ID"}
RAW = {"True", "False", "None"}
TEXT_ATTRIBUTES = {"aria-label", "title", "placeholder"}


def _walked_pages(case, handled) -> list[str]:
    return [
        "/todo/",
        "/done/",
        "/cases/",
        "/cases/?state=handling&sort=deadline",
        f"/cases/{case.pk}/",
        f"/cases/{handled.pk}/",
        "/intake/",
        "/dispatch/",
        "/map/",
        "/help/workflows/",
        "/password/",
        "/dashboard/",
        "/dashboard/screen/",
        "/evaluation/report/",
        "/evaluation/bulletin/",
        "/m/",
        "/m/report/",
        "/portal/",
        "/portal/report/",
        "/portal/track/",
        "/admin/",
        "/admin/cases/case/",
        f"/admin/cases/case/{handled.pk}/change/",
    ]


class _Texts(HTMLParser):
    """The texts a person reads: text nodes, options, button values and a few attributes."""

    SKIP = {"script", "style", "template", "code"}  # <code>: codes shown as codes on purpose

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self._skip += 1
        values = dict(attrs)
        for name in TEXT_ATTRIBUTES:
            if values.get(name):
                self.texts.append(values[name])
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.texts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in self.SKIP and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self._skip:
            self.texts.append(text)


def texts_of(html: str) -> list[str]:
    parser = _Texts()
    parser.feed(html)
    return parser.texts


_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")
_WORD = re.compile(r"[A-Za-z]{3,}")


def english_patterns() -> list[tuple[str, re.Pattern]]:
    """(msgid, pattern) for every msgid of our catalogue whose Chinese differs from it."""
    catalog = gettext.GNUTranslations(MO.open("rb"))._catalog
    patterns = []
    for key, value in catalog.items():
        msgid = key[0] if isinstance(key, tuple) else key
        msgid = msgid.split("\x04", 1)[-1]  # without the context
        if not msgid or value == msgid or msgid in IGNORED or "\n" in msgid:
            continue
        literal = _PLACEHOLDER.sub(" ", msgid)
        if not _WORD.search(literal):
            continue
        parts = [re.escape(p) for p in _PLACEHOLDER.split(msgid)]
        body = ".+?".join(parts)
        if len(literal.split()) >= 2 and not _PLACEHOLDER.search(msgid):
            pattern = re.compile(rf"(?<![A-Za-z]){body}(?![A-Za-z])")  # inside a longer text too
        else:
            pattern = re.compile(rf"\s*{body}\s*[.:：]?")  # the whole text
        patterns.append((msgid, pattern))
    return patterns


def raw_codes(lang: str) -> set[str]:
    """Codes that are never what a person reads: in Chinese every code of the states, sources,
    requests, roles and urgencies; in English those that are not words (`return_requested`)."""
    codes = {
        str(value)
        for choices in (State.choices, Source.choices, PendingRequest.choices, RoleCode.choices, URGENCIES)
        for value, _label in choices
        if value
    }
    if lang != "zh-hans":
        codes = {c for c in codes if "_" in c}
    return codes | RAW


def problems_in(html: str, lang: str, patterns, raw: set[str]) -> list[str]:
    found = []
    for text in texts_of(html):
        if text in raw:
            found.append(f"raw value {text!r}")
        if lang != "zh-hans":
            continue
        for msgid, pattern in patterns:
            hit = pattern.fullmatch(text) if pattern.pattern.startswith(r"\s*") else pattern.search(text)
            if hit:
                found.append(f"English {msgid!r} in {text[:80]!r}")
    return found


def _product_workflows() -> list:
    """The help page's workflows without the engine tests' toy app (English on purpose)."""
    models = [m for m in registry.models() if m._meta.app_label != "toy"]
    return [wf for model in models for wf in registry.workflows(model)]


@pytest.fixture
def staff_world(world, monkeypatch):
    monkeypatch.setattr(staff_help, "_all", _product_workflows)
    admin = make_user(
        "administrator",
        "operator",
        "shift_leader",
        "dispatcher",
        "leader",
        "collector",
        department=world.center,
        username="admin1",
        scope_city=True,
        is_staff=True,
        is_superuser=True,
    )
    reported = report(world)
    handled = to_handling(world, report(world, i=1))
    report(world, i=2, by=world.operator, source="hotline")  # waits for verification
    return admin, reported, handled


def test_the_checks_find_english_and_raw_values():
    patterns = english_patterns()
    raw = raw_codes("zh-hans")
    assert {"handling", "return_requested", "True", "collector", "normal"} <= raw
    assert {"handling", "collector"}.isdisjoint(raw_codes("en")) and "return_requested" in raw_codes("en")
    bad = "<p>Export to Excel</p><td>True</td><button aria-label='Next page'>›</button>"
    found = problems_in(bad, "zh-hans", patterns, raw)
    assert any("Export to Excel" in f for f in found) and any("Next page" in f for f in found)
    assert "raw value 'True'" in found
    assert (
        problems_in("<p>导出到 Excel</p><td>urbangrid</td><script>x = 'Next page'</script>", "zh-hans", patterns, raw)
        == []
    )


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_staff_pages_have_no_untranslated_or_raw_words(staff_world, lang):
    admin, reported, handled = staff_world
    client = Client()
    client.force_login(admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    patterns = english_patterns() if lang == "zh-hans" else []
    raw = raw_codes(lang)
    failures = []
    for url in _walked_pages(reported, handled):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert response.headers.get("Content-Language", lang) == lang, url
        failures += [f"{url}: {p}" for p in problems_in(response.content.decode(), lang, patterns, raw)]
    assert not failures, "\n".join(sorted(set(failures)))


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_languages_are_listed_in_their_own_names(staff_world, lang):
    client = Client()
    client.force_login(staff_world[0])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    for url in ("/todo/", "/m/", "/portal/"):
        body = client.get(url).content.decode()
        assert ">English</option>" in body and ">简体中文</option>" in body, url
        assert "英语" not in body and "Simplified Chinese" not in body, url


def test_admin_shows_third_party_apps_in_chinese(staff_world):
    client = Client()
    client.force_login(staff_world[0])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    body = client.get("/admin/").content.decode()
    for english in ("Axes", "AXES", "Access attempts", "Tasks Database Backend", "Task Results"):
        assert english not in body, english


def test_favicon(db, client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith("favicon.ico")
    assert client.get(response["Location"]).status_code == 200
