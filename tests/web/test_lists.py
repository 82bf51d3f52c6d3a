"""Search and done lists: a capped total, numbered (offset) pages that agree with the keyset
pages, the keyset path for deep pages, and the Excel export (text case numbers, description)."""

from __future__ import annotations

import functools
import io
import re

import pytest
from openpyxl import load_workbook

from tests.cases.test_loop import report
from urbangrid.cases.models import Case
from urbangrid.web import lists


@pytest.fixture
def five(world):
    return [report(world, i=i % 4) for i in range(5)]


@pytest.fixture
def pages_of_two(monkeypatch):
    """Pages of 2 rows, 3 numbered pages."""
    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    monkeypatch.setattr(lists, "NUMBERED_PAGES", 3)
    monkeypatch.setattr(lists, "page_of", functools.partial(lists.page_of, limit=2))


def _keyset_chain(qs, sort, limit):
    pages, cursor = [], ""
    while True:
        page = lists.paginate(qs, sort, cursor, limit)
        pages.append([c.pk for c in page.items])
        if not page.next_cursor:
            return pages
        cursor = page.next_cursor


def test_total_is_counted_up_to_the_cap(five):
    qs = Case.objects.all()
    assert lists.count_total(qs) == lists.Total(5, False)
    assert lists.count_total(qs, cap=3) == lists.Total(3, True)
    assert lists.count_total(qs, cap=5) == lists.Total(5, False)
    assert lists.Total(5, False).text == "5 cases" and lists.Total(1, False).text == "1 case"
    assert lists.Total(10_000, True).text == "more than 10,000 cases"
    assert lists.Total(0, False).pages == 1 and lists.Total(101, False).pages == 3


@pytest.mark.parametrize("sort", ["-id", "deadline"])
def test_numbered_pages_agree_with_the_keyset_pages(five, sort):
    qs = Case.objects.all()
    chain = _keyset_chain(qs, sort, 2)
    assert sum(len(p) for p in chain) == 5 and len(chain) == 3
    for number, expected in enumerate(chain, start=1):
        page = lists.page_of(qs, sort, number, limit=2)
        assert [c.pk for c in page.items] == expected, number
        if number < len(chain):  # "next page" goes on by keyset from an offset page
            following = lists.paginate(qs, sort, page.next_cursor, 2)
            assert [c.pk for c in following.items] == chain[number]
        else:
            assert page.next_cursor is None


def test_page_numbers_are_checked():
    assert lists.page_number("") == 1 and lists.page_number("3") == 3
    assert lists.page_number("500", cursor="i|12") == 500  # a deep keyset page: a label only
    for bad in ("0", "-1", "x", "²", str(lists.NUMBERED_PAGES + 1), "9" * 9):
        with pytest.raises(lists.BadCursor):
            lists.page_number(bad)


def test_search_shows_the_total_and_page_links(five, as_user, world, pages_of_two):
    c = as_user(world.operator)
    body = c.get("/cases/").content.decode()
    assert 'data-testid="total">5 cases · page 1<' in body
    assert 'data-testid="page-2"' in body and 'data-testid="page-3"' in body
    assert 'aria-current="page" data-testid="page-current">1<' in body
    newest = sorted((k.pk for k in five), reverse=True)
    body = c.get("/cases/?page=2").content.decode()
    shown = [int(n) for n in re.findall(r'href="/cases/(\d+)/"', body)]
    assert shown == newest[2:4]
    next_url = re.search(r'href="\?([^"]+)" data-testid="next-page"', body).group(1).replace("&amp;", "&")
    assert "cursor=" in next_url and "page=3" in next_url
    body = c.get("/cases/?" + next_url).content.decode()
    assert [int(n) for n in re.findall(r'href="/cases/(\d+)/"', body)] == newest[4:]
    assert 'aria-current="page" data-testid="page-current">3<' in body
    # filters stay in the page links; the total follows the filters
    body = c.get("/cases/?state=handling").content.decode()
    assert 'data-testid="total">0 cases<' in body and "page-numbers" not in body
    assert c.get("/cases/?page=4").status_code == 400  # beyond the numbered pages: by keyset only
    assert c.get("/cases/?page=abc").status_code == 400


def test_deep_pages_go_on_by_keyset(five, as_user, world, monkeypatch, pages_of_two):
    monkeypatch.setattr(lists, "NUMBERED_PAGES", 1)
    c = as_user(world.operator)
    body = c.get("/cases/").content.decode()
    assert "page-numbers" not in body  # a single numbered page: no numbers
    next_url = re.search(r'href="\?([^"]+)" data-testid="next-page"', body).group(1).replace("&amp;", "&")
    body = c.get("/cases/?" + next_url).content.decode()
    assert 'aria-current="page" data-testid="page-current">2<' in body
    assert 'data-testid="page-1"' in body


def test_the_capped_total_says_more_than(five, as_user, world, monkeypatch):
    monkeypatch.setattr(lists, "count_total", functools.partial(lists.count_total, cap=3))
    body = as_user(world.operator).get("/cases/").content.decode()
    assert "more than 3 cases" in body


def test_export_writes_case_numbers_as_text_and_the_description(five, as_user, world):
    r = as_user(world.operator).get("/export/search.xlsx")
    ws = load_workbook(io.BytesIO(r.content)).active
    header = [c.value for c in ws[1]]
    assert header[0] == "case number" and header[-1] == "description"
    number = ws["A2"]
    assert number.data_type == "s" and number.number_format == "@" and len(number.value) >= 19
    assert ws.cell(row=2, column=len(header)).value == "路边有垃圾堆"
    assert ws.column_dimensions["A"].width >= 22  # 19+ digits fit
    assert ws.column_dimensions[ws.cell(row=1, column=len(header)).column_letter].width >= 40
