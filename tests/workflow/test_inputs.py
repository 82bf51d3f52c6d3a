"""Each input type's coercion and refusals, and `clean_inputs` (per-field messages)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tests.workflow.util import CN, at, exactly
from urbangrid.workflow.definition import Context, I, InputType, T, Workflow, clean_inputs, is_empty
from urbangrid.workflow.errors import Invalid

CTX = SimpleNamespace(obj=None)


def ok(inp, raw):
    return inp.clean(CTX, raw)


def refused(inp, raw) -> str:
    with pytest.raises(ValueError) as exc:
        inp.clean(CTX, raw)
    return str(exc.value)


def test_text():
    t = I("t", "T")
    assert t.type is InputType.TEXT
    assert ok(t, "  路灯  ") == "路灯"
    assert ok(t, 12) == "12" and ok(t, 1.5) == "1.5" and ok(t, Decimal("2.50")) == "2.50"
    assert refused(t, True) == "Enter text."
    assert refused(t, ["a"]) == "Enter text."
    assert refused(t, {"a": 1}) == "Enter text."
    short = I("t", "T", max_length=3)
    assert ok(short, " abc ") == "abc"
    assert refused(short, "abcd") == "At most 3 characters."
    assert len(ok(I("t", "T", max_length=None), "x" * 5000)) == 5000
    assert refused(I("t", "T"), "x" * 2001) == "At most 2000 characters."
    assert ok(I("t", "T"), "x" * 2000) == "x" * 2000
    assert ok(I("t", "T", "textarea", max_length=4), "a\nb ") == "a\nb"
    assert refused(I("t", "T", "textarea"), False) == "Enter text."


def test_int():
    n = I("n", "N", "int")
    assert ok(n, "42") == 42 and ok(n, " -7 ") == -7 and ok(n, 5) == 5
    assert ok(n, "9" * 18) == int("9" * 18)
    for raw in ("4.2", "abc", "1e3", "１２", "9" * 19, "--1", "-", "1-", True, False):
        assert refused(n, raw) == "Enter a whole number.", raw
    bounded = I("n", "N", "int", min_value=1, max_value=3)
    assert ok(bounded, "1") == 1 and ok(bounded, "3") == 3
    assert refused(bounded, "0") == "At least 1."
    assert refused(bounded, "4") == "At most 3."


def test_decimal():
    d = I("d", "D", "decimal")
    assert ok(d, "12.50") == Decimal("12.50") and str(ok(d, " 12.50 ")) == "12.50"
    assert ok(d, 3) == Decimal(3) and ok(d, "-999999999.99") == Decimal("-999999999.99")
    assert ok(d, "999999999.99") == Decimal("999999999.99")
    for raw in ("abc", "NaN", "Infinity", "-inf", "1e9", "1000000000", True, ""):
        assert refused(d, raw) == "Enter a number.", raw
    bounded = I("d", "D", "decimal", min_value=0, max_value=Decimal("100.5"))
    assert ok(bounded, "0") == 0 and ok(bounded, "100.5") == Decimal("100.5")
    assert refused(bounded, "-0.01") == "At least 0."
    assert refused(bounded, "100.51") == "At most 100.5."


def test_bool():
    b = I("b", "B", "bool")
    for raw in (True, 1, "true", " TRUE ", "1", "yes", "on", "On"):
        assert ok(b, raw) is True, raw
    for raw in (False, 0, "false", "0", "no", "off", " Off "):
        assert ok(b, raw) is False, raw
    for raw in ("maybe", 2, "y", "ja"):
        assert refused(b, raw) == "Answer true or false.", raw


def test_choice():
    c = I("c", "C", "choice", choices=[("a", "A"), ("b", "B")])
    assert ok(c, " a ") == "a"
    assert refused(c, "c") == "Choose one of: a, b."
    assert c.choice_list() == [("a", "A"), ("b", "B")]
    by_obj = I("c", "C", "choice", choices=lambda obj: [(obj.upper(), "X")])
    assert by_obj.clean(SimpleNamespace(obj="x"), "X") == "X"
    assert by_obj.choice_list("y") == [("Y", "X")]
    with pytest.raises(ValueError, match=exactly("Choose one of: Y.")):
        by_obj.clean(SimpleNamespace(obj="y"), "X")
    numbers = I("c", "C", "choice", choices=[(1, "one"), (2, "two")])
    assert ok(numbers, 2) == "2"
    assert I("c", "C").choice_list() == []
    # choices restrict other types too
    assert refused(I("n", "N", "int", choices=[(1, "one")]), "2") == "Choose one of: 1."


def test_date():
    d = I("d", "D", "date")
    assert ok(d, "2026-10-01") == date(2026, 10, 1)
    assert ok(d, date(2026, 10, 1)) == date(2026, 10, 1)
    for raw in ("2026-02-30", "01/10/2026", "junk", datetime(2026, 10, 1, 9, tzinfo=CN), "2026-10-01T09:00"):
        assert refused(d, raw) == "Not a valid date or time.", raw
    bounded = I("d", "D", "date", min_value=date(2026, 1, 1))
    assert refused(bounded, "2025-12-31") == "At least 2026-01-01."


def test_datetime():
    d = I("d", "D", "datetime")
    assert ok(d, "2026-10-01T09:30+08:00") == at(2026, 10, 1, 9, 30)
    assert ok(d, "2026-10-01T01:30Z") == at(2026, 10, 1, 9, 30)
    assert ok(d, at(2026, 10, 1, 9, 30)) == at(2026, 10, 1, 9, 30)
    assert refused(d, "2026-10-01T09:30") == "Give the time with its offset, e.g. 2026-11-28T09:30+08:00."
    assert refused(d, datetime(2026, 10, 1, 9, 30)) == "Give the time with its offset, e.g. 2026-11-28T09:30+08:00."
    assert refused(d, "2026-10-01") == "Give the time with its offset, e.g. 2026-11-28T09:30+08:00."
    for raw in ("junk", "2026-13-01T09:30+08:00", "2026-10-01T25:00+08:00"):
        assert refused(d, raw) == "Not a valid date or time.", raw


def test_photos():
    p = I("p", "P", "photos")
    assert ok(p, "tok") == ["tok"]
    assert ok(p, [" a ", "b"]) == ["a", "b"]
    assert ok(p, ("a",)) == ["a"]
    for raw in ([""], ["a", " "], [1], 5, ["a", None]):
        assert refused(p, raw) == "List the tokens of uploaded photos.", raw


def test_ref_lookup_and_validators():
    def lookup(ctx, value):
        return {"1": "one"}.get(str(value))

    r = I("r", "R", "ref", lookup=lookup)
    assert ok(r, 1) == "one" and ok(r, "1") == "one"
    assert refused(r, 2) == "Not found, or outside your area of responsibility."
    assert ok(I("r", "R", "ref"), {"raw": 1}) == {"raw": 1}
    assert refused(I("r", "R", "ref", lookup=lookup, not_found="No such grid."), 2) == "No such grid."

    def double(ctx, value):
        return value * 2

    def not_seven(ctx, value):
        if value == 7:
            raise ValueError("Not seven.")
        return value

    v = I("n", "N", "int", validators=(not_seven, double))
    assert ok(v, "3") == 6
    assert refused(v, "7") == "Not seven."


def test_initial():
    assert I("a", "A", initial=5).initial_for(None) == 5
    assert I("a", "A", initial=lambda obj: obj + 1).initial_for(1) == 2
    assert I("a", "A").initial_for(None) is None


def test_is_empty():
    for value in (None, "", "  ", [], (), {}):
        assert is_empty(value), value
    for value in (0, False, "0", [""], {"a": 1}, Decimal(0)):
        assert not is_empty(value), value


def _ctx(inputs, data):
    t = T("go", "a", "b", roles="x", label="Go", inputs=inputs)
    wf = Workflow("w", {"a": "A", "b": "B"}, [t])
    return Context(obj=None, actor=None, role="x", data=data, transition=t, now=at(2026, 1, 5), workflow=wf)


def test_clean_inputs_keeps_only_declared_non_empty_inputs():
    ctx = _ctx([I("a", "A", required=True), I("b", "B", "int"), I("c", "C")], {"a": " x ", "b": "", "z": 1})
    clean_inputs(ctx)
    assert ctx.data == {"a": "x"}


def test_clean_inputs_reports_every_field():
    def refuse(ctx, value):
        raise Invalid("Refused by rule.", fields={"c": "Too big for this record."})

    def refuse_plain(ctx, value):
        raise Invalid("Refused plainly.")

    inputs = [
        I("a", "A", required=True),
        I("b", "B", "int"),
        I("c", "C", validators=(refuse,)),
        I("d", "D", validators=(refuse_plain,)),
    ]
    ctx = _ctx(inputs, {"b": "x", "c": "1", "d": "2"})
    with pytest.raises(Invalid) as exc:
        clean_inputs(ctx)
    assert exc.value.message == (
        "Check the input of “Go”: a: This field is required for “Go”; b: Enter a whole number; "
        "c: Too big for this record; d: Refused plainly."
    )
    assert exc.value.fields == {
        "a": "This field is required for “Go”.",
        "b": "Enter a whole number.",
        "c": "Too big for this record.",
        "d": "Refused plainly.",
    }
    ctx = _ctx([I("a", "A", required=True), I("b", "B", required=True)], {"a": [], "b": None})
    with pytest.raises(Invalid) as exc:
        clean_inputs(ctx)
    assert exc.value.message == "Missing input for “Go”: a, b."
