"""Property tests: the expression language, validators and text normalisation never
crash on arbitrary input, and their invariants hold."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kiosk.expr import (
    FUNCTIONS,
    EvalContext,
    ExprError,
    evaluate,
    parse,
    references,
    to_number,
    to_string,
)
from kiosk.textnorm import fold_apostrophes, normalize_text
from kiosk.validators import (
    explain,
    format_phone,
    is_valid_pinfl,
    make_pinfl,
    normalize_passport,
    normalize_phone,
    pinfl_birth_date,
    pinfl_problem,
    pinfl_sex,
)

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ANSWERS: dict[str, Any] = {
    "n": 7,
    "x": -2.5,
    "s": "Toshkent",
    "e": None,
    "d": date(2001, 9, 1),
    "t": datetime(2020, 1, 1, 8, 30),
    "sm": ["a", "b"],
    "ss": "a b c",
    "rep": [{"k": 1}, {"k": 2}],
    "k": [1, 2],
    "b": True,
    "z": "",
}
BARE = {"region": "tash", "div": 3}
VALUE_TYPES = (str, int, float, bool, date, list, type(None))

# Tokens that make parse() explore its corners when shuffled together.
EXPR_ALPHABET = st.sampled_from(
    list("${}().,'\"-+*=<>!/ 0123456789abcdefgxyz_:")
    + ["and", "or", "div", "mod", "not(", "if(", "${n}", "${s}", "..", "\u02bb", "\x00", "é"]
)


@FAST
@given(st.text())
@example(".\u0663")  # a non-ASCII digit after a dot
@example(".\u00b2")
def test_parse_arbitrary_text_raises_only_expr_error(text: str) -> None:
    try:
        parse(text)
    except ExprError as e:
        assert str(e)


@FAST
@given(st.lists(EXPR_ALPHABET, max_size=40).map("".join))
def test_parse_token_soup_raises_only_expr_error(text: str) -> None:
    try:
        tree = parse(text)
    except ExprError as e:
        assert e.pos is None or 0 <= e.pos <= len(text)
        return
    assert references(text) <= set(_names(text))
    try:
        evaluate(tree, EvalContext(resolve=ANSWERS.get, current="x", resolve_bare=BARE.get))
    except ExprError:
        pass


def _names(text: str) -> list[str]:
    import re

    return [m.strip() for m in re.findall(r"\$\{([^}]*)\}", text)]


# --- random well-formed expressions -------------------------------------------------

_LEAVES = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.floats(0, 1e6, allow_nan=False).map(lambda f: format(f, "f")),
    st.text(alphabet="abc 12-:'ʻ", max_size=8).map(lambda s: '"' + s.replace('"', "") + '"'),
    st.sampled_from([f"${{{name}}}" for name in ANSWERS] + [".", "region", "'2020-02-29'"]),
    st.sampled_from(["today()", "now()", "true()", "false()", "pi()"]),
)
_BINOPS = ["and", "or", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod"]
# uuid() and the other zero-argument functions are leaves or excluded; test-* functions
# come from other tests' registrations.
_CALLABLE = sorted(n for n, spec in FUNCTIONS.items() if not n.startswith("test-"))


def _call(draw_args: list[str], name: str) -> str:
    spec = FUNCTIONS[name]
    hi = spec.max_args if spec.max_args is not None else spec.min_args + 2
    n = min(max(len(draw_args), spec.min_args), hi)
    args = (draw_args * (n // max(len(draw_args), 1) + 1))[:n] if draw_args else ["1"] * n
    return f"{name}({', '.join(args)})"


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(_BINOPS), children).map(
            lambda t: f"{t[0]} {t[1]} {t[2]}"
        ),
        children.map(lambda c: f"({c})"),
        children.map(lambda c: f"-{c}"),
        st.tuples(st.lists(children, max_size=3), st.sampled_from(_CALLABLE)).map(
            lambda t: _call(t[0], t[1])
        ),
    )


EXPRESSIONS = st.recursive(_LEAVES, _extend, max_leaves=25)


@FAST
@given(EXPRESSIONS, st.sampled_from([None, "", "abc", 5, 2.5, date(2000, 1, 1), ["a"]]))
def test_well_formed_expressions_evaluate_or_raise_expr_error(text: str, current: Any) -> None:
    tree = parse(text)  # well-formed by construction: must parse
    ctx = EvalContext(
        resolve=ANSWERS.get, current=current, today=date(2026, 1, 1), resolve_bare=BARE.get
    )
    try:
        value = evaluate(tree, ctx)
    except ExprError as e:
        assert str(e)
        return
    assert isinstance(value, VALUE_TYPES)
    # Every value converts both ways without an error.
    to_string(value)
    to_number(value)


@FAST
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_strings_round_trip(x: float) -> None:
    assert to_number(to_string(x)) == x
    assert "e" not in to_string(x).lower()


@FAST
@given(st.integers(-(2**53), 2**53), st.integers(-(2**53), 2**53))
def test_integer_arithmetic_matches_python(a: int, b: int) -> None:
    ctx = EvalContext(resolve={"a": a, "b": b}.get)
    assert evaluate("${a} + ${b}", ctx) == float(a) + float(b)
    assert evaluate("${a} - ${b}", ctx) == float(a) - float(b)
    assert evaluate("${a} < ${b}", ctx) is (a < b)
    assert evaluate("${a} = ${b}", ctx) is (float(a) == float(b))


# --- validators ----------------------------------------------------------------------


@FAST
@given(st.text())
def test_validators_never_raise(s: str) -> None:
    assert pinfl_problem(s) in (None, "length", "digits", "century", "date", "checksum")
    is_valid_pinfl(s)
    pinfl_birth_date(s)
    pinfl_sex(s)
    p = normalize_phone(s)
    assert p is None or (p.startswith("+998") and len(p) == 13)
    format_phone(s)
    n = normalize_passport(s)
    assert n is None or (len(n) == 9 and n[:2].isascii() and n[:2].isupper())
    for kind in ("pinfl", "phone", "passport"):
        explain(kind, s, "ru")


@FAST
@given(st.text(alphabet="0123456789 -", max_size=20))
def test_pinfl_digit_strings_never_raise(s: str) -> None:
    assert pinfl_problem(s) in (None, "length", "digits", "century", "date", "checksum")


@FAST
@given(
    st.dates(date(1800, 1, 1), date(2025, 12, 31)),
    st.sampled_from(["m", "f"]),
    st.integers(0, 999),
    st.integers(0, 999),
    st.integers(0, 12),
    st.integers(1, 9),
)
def test_pinfl_round_trip_and_single_digit_errors(
    birth: date, sex: str, area: int, serial: int, pos: int, delta: int
) -> None:
    p = make_pinfl(birth, sex, area, serial)
    assert is_valid_pinfl(p)
    assert pinfl_birth_date(p) == birth and pinfl_sex(p) == sex
    changed = p[:pos] + str((int(p[pos]) + delta) % 10) + p[pos + 1 :]
    assert not is_valid_pinfl(changed)


# --- text normalisation --------------------------------------------------------------


@FAST
@given(st.text(), st.integers(0, 60), st.booleans())
def test_normalize_text_is_idempotent_and_bounded(s: str, max_len: int, multiline: bool) -> None:
    once = normalize_text(s, max_len, multiline=multiline)
    assert len(once) <= max_len
    assert normalize_text(once, max_len, multiline=multiline) == once
    assert once == once.strip()
    once.encode("utf-8")  # storable: no lone surrogates


@FAST
@given(
    st.text(alphabet="eoOgGa'`ʼ \t\n\r\x00\x85\u0301\u0306\u0308\u200b\u2028\ud800", max_size=30)
)
def test_normalize_text_idempotent_on_tricky_characters(s: str) -> None:
    for multiline in (False, True):
        once = normalize_text(s, 12, multiline=multiline)
        assert normalize_text(once, 12, multiline=multiline) == once


@FAST
@given(st.text(alphabet="oOgGaemnst'`‘’ʻʼ´ иъ\n", max_size=30))
def test_apostrophe_folding_is_idempotent_and_keeps_length(s: str) -> None:
    folded = fold_apostrophes(s)
    assert fold_apostrophes(folded) == folded
    assert len(folded) == len(s)
    normalized = normalize_text(s)
    assert normalize_text(normalized) == normalized
