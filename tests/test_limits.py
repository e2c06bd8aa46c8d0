"""Unit tests of each evaluation limit (issue 13): string cap, step budget, depth,
calculation chains, regex translation and refusal, checker findings."""

from __future__ import annotations

import pytest

from kiosk import expr
from kiosk.calc_chain import chains
from kiosk.expr import regex
from kiosk.expr.limits import MAX_STRING, Budget, LimitError


def _ev(text: str, **values: object) -> object:
    return expr.evaluate(text, expr.EvalContext(values.get))


def test_concat_is_capped_before_it_is_built() -> None:
    half = "a" * (MAX_STRING // 2)
    assert len(str(_ev("concat(${s}, ${s})", s=half))) == MAX_STRING
    with pytest.raises(LimitError) as err:
        _ev("concat(${s}, ${s}, 'x')", s=half)
    assert "65536" in err.value.say("en") and "65536" in err.value.say("ru")


def test_join_is_capped() -> None:
    with pytest.raises(LimitError):
        _ev("join(',', ${r})", r=["a" * 40_000, "b" * 40_000])


def test_step_budget_stops_an_expression() -> None:
    ctx = expr.EvalContext(lambda n: 1, budget=Budget(50))
    with pytest.raises(LimitError):
        expr.evaluate(" + ".join(["${x}"] * 100), ctx)


def test_deep_nesting_is_a_parse_error_not_recursion() -> None:
    with pytest.raises(expr.ExprError, match="nested too deeply"):
        expr.parse("(" * 5000 + "1" + ")" * 5000)
    with pytest.raises(expr.ExprError, match="nested too deeply"):
        expr.parse("concat(" * 500 + "'a'" + ")" * 500)


def test_chains_are_found_by_loops() -> None:
    deps = {f"k{i}": {f"k{i + 1}"} for i in range(5000)} | {"k5000": {"n"}}
    found = chains(deps)
    assert found.longest == 5001 and found.too_long() == ("k0", 5001)
    assert chains({"a": {"b"}, "b": {"a"}, "c": {"a"}}).cycles == [["a", "b"]]


@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        (r"^[\w-\.]+@x$", "a-b.c@x", True),
        (r"^\d{5}$", "١٢٣٤٥", False),  # ASCII \d, as Java's
        (r"^\u0041$", "A", True),
        (r"^(?<y>\d{4})$", "2024", True),
        (r"^(a+)+$", "a" * 5000 + "!", False),  # linear time: no hang
        (r"b", "abc", True),  # a search, as JavaRosa's find()
    ],
)
def test_regex_translation_keeps_java_meaning(pattern: str, text: str, found: bool) -> None:
    assert regex.search(pattern, text) is found


@pytest.mark.parametrize(
    "pattern", [r"(a)\1", r"(?=a)", r"(?<!a)b", r"a++", r"(?>a)", r"[a-z&&[^x]]", r"(?#c)"]
)
def test_what_re2_cannot_run_is_refused_with_a_reason(pattern: str) -> None:
    refused = regex.refusal(pattern)
    assert refused is not None and refused.say("ru") != refused.say("en")
    with pytest.raises(expr.ExprError, match="regex"):
        _ev(f"regex('a', '{pattern}')")


def test_over_long_pattern_is_refused() -> None:
    assert regex.refusal("a" * 5000) is not None


@pytest.mark.parametrize(
    ("pattern", "java_bad"),
    [("(ab", True), ("[ab", True), ("a\\", True), (r"\i", True), ("(?P<n>a)", True)]
    + [("a{", True), ("*a", True), (r"^\p{Lu}\x{41}{2}$", False), (r"^\d{2,5}$", False)],
)
def test_java_problems(pattern: str, java_bad: bool) -> None:
    assert bool(regex.java_problems(pattern)) is java_bad


@pytest.mark.parametrize(
    ("pattern", "bad"),
    [("^(a+)+$", True), ("(a|a)*", True), ("(a*)*b", True), ("(ab|cd)*", False)]
    + [(r"^\d{5}$", False), ("^(ab)+$", False)],
)
def test_catastrophic_patterns_are_spotted(pattern: str, bad: bool) -> None:
    assert (regex.catastrophic(pattern) is not None) is bad
