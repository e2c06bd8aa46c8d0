"""The XLSForm expression language: operators, functions, coercions, errors."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pytest

from kiosk import expr
from kiosk.expr import (
    EvalContext,
    ExprError,
    evaluate,
    parse,
    references,
    register_function,
    to_bool,
    to_number,
    to_string,
)
from kiosk.validators import make_pinfl

TODAY = date(2026, 3, 15)
ANSWERS: dict[str, Any] = {
    "age": 42,
    "height": 1.75,
    "name": "Dilnoza",
    "empty": None,
    "blank": "",
    "dob": date(1990, 6, 1),
    "dob_iso": "1990-06-01",
    "langs": ["uz", "ru"],
    "langs_str": "uz ru en",
    "members": [{"m_age": 30}, {"m_age": 12}],
    "m_age": [30, 12],
    "m_name": ["Ali", "Vali"],
    "yes": True,
    "n_text": " 12 ",
}


def ev(text: str, current: Any = None, **answers: Any) -> Any:
    values = {**ANSWERS, **answers}
    return evaluate(text, EvalContext(resolve=values.get, current=current, today=TODAY))


# --- literals, references, arithmetic ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("1.5", 1.5),
        (".5", 0.5),
        ('"double"', "double"),
        ("'single'", "single"),
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("7 div 2", 3.5),
        ("8 div 2", 4),
        ("7 mod 3", 1),
        ("-7 mod 3", -1),
        ("7 mod -3", 1),
        ("5.5 mod 2", 1.5),
        ("-3", -3),
        ("- -3", 3),
        ("2 - -3", 5),
        ("-${age}", -42),
        ("${age} + 1", 43),
        ("${age}*2", 84),
        ("${height} * 100", 175),
        ("${n_text} + 1", 13),
        ("${yes} + 1", 2),
    ],
)
def test_arithmetic(text: str, expected: Any) -> None:
    assert ev(text) == expected


def test_integer_results_are_ints() -> None:
    assert isinstance(ev("${age} + 1"), int)
    assert isinstance(ev("8 div 2"), int)
    assert isinstance(ev("1.5 + 1.5"), int)
    assert isinstance(ev("7 div 2"), float)
    assert int(ev("${age} * 3")) == 126


def test_division_by_zero_is_infinity_not_a_crash() -> None:
    assert ev("1 div 0") == math.inf
    assert ev("-1 div 0") == -math.inf
    assert math.isnan(ev("0 div 0"))
    assert math.isnan(ev("5 mod 0"))
    assert ev("string(1 div 0)") == "Infinity"
    assert ev("string(-1 div 0)") == "-Infinity"
    assert ev("string(0 div 0)") == "NaN"


def test_arithmetic_on_empty_is_nan() -> None:
    assert math.isnan(ev("${empty} + 1"))
    assert math.isnan(ev("${name} * 2"))


# --- comparisons and logic -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 = 1", True),
        ("1 = 2", False),
        ("1 != 2", True),
        ("1 < 2", True),
        ("2 <= 2", True),
        ("3 > 2", True),
        ("2 >= 3", False),
        ("'a' = 'a'", True),
        ("'a' != 'b'", True),
        ("'10' = 10", True),
        ("'10.0' = 10", True),
        ("'abc' < 'abd'", False),  # XPath: relational operators compare numbers (NaN)
        ("${age} > 18", True),
        ("${age} >= 42 and ${age} <= 42", True),
        ("${age} < 18 or ${name} = 'Dilnoza'", True),
        ("${age} < 18 and ${name} = 'Dilnoza'", False),
        ("not(${age} < 18)", True),
        ("true() = 1", True),
        ("false() = ''", True),
        ("${yes} = true()", True),
        ("'x' = true()", True),
        ("1 < 2 = true()", True),
        ("1 + 1 = 2 and 3 > 2", True),
        ("1 = 1 or 1 div 0", True),
    ],
)
def test_comparisons_and_logic(text: str, expected: bool) -> None:
    result = ev(text)
    assert result is expected


def test_empty_answer_is_the_empty_string() -> None:
    assert ev("${empty} = ''") is True
    assert ev('${empty} = ""') is True
    assert ev("${blank} = ''") is True
    assert ev("${empty} != ''") is False
    assert ev("${name} = ''") is False
    assert ev("string-length(${empty})") == 0


def test_nan_comparisons_are_false() -> None:
    for op in ("=", "<", "<=", ">", ">="):
        assert ev(f"number('') {op} 0") is False
        assert ev(f"number('x') {op} number('x')") is False
    assert ev("number('') != 0") is True
    assert ev("${empty} > 0") is False
    assert ev("${empty} < 0") is False


def test_and_or_short_circuit() -> None:
    calls: list[str] = []

    def resolve(name: str) -> Any:
        calls.append(name)
        return None

    ctx = EvalContext(resolve=resolve)
    assert evaluate("false() and ${a}", ctx) is False
    assert evaluate("true() or ${b}", ctx) is True
    assert calls == []


def test_long_chains_evaluate_without_recursion() -> None:
    assert ev(" + ".join(["${age}"] * 2000)) == 42 * 2000
    assert ev(" and ".join(["${age} = 42"] * 1000)) is True


# --- dates -----------------------------------------------------------------------------


def test_today_and_date_arithmetic() -> None:
    assert ev("today()") == TODAY
    assert ev("today() - ${dob}") == (TODAY - date(1990, 6, 1)).days
    assert ev("int((today() - ${dob}) div 365.25)") == 35
    assert ev("today() - ${dob_iso}") == (TODAY - date(1990, 6, 1)).days
    assert ev("date(today() + 1)") == date(2026, 3, 16)
    assert ev("today() > ${dob}") is True
    assert ev("${dob} < '2000-01-01'") is True
    assert ev("${dob} = '1990-06-01'") is True
    assert ev("${dob} = date('1990-06-01')") is True
    assert ev("${dob_iso} < '1990-06-02'") is True
    assert ev("${dob} > today()") is False


def test_today_defaults_to_the_real_date() -> None:
    assert evaluate("today()", EvalContext(resolve=lambda n: None)) == date.today()


def test_now_is_a_datetime_on_the_pinned_day() -> None:
    now = ev("now()")
    assert isinstance(now, datetime) and now.date() == TODAY
    assert ev("now() > today()") is True


def test_date_function() -> None:
    assert ev("date('2024-02-29')") == date(2024, 2, 29)
    assert ev("date(0)") == date(1970, 1, 1)
    assert ev("date(19797)") == date(2024, 3, 15)
    assert ev("date(${dob})") == date(1990, 6, 1)
    assert ev("date(${empty})") == ""
    with pytest.raises(ExprError, match="not a date"):
        ev("date('not a date')")


def test_invalid_calendar_date_is_an_error() -> None:
    with pytest.raises(ExprError):
        ev("date('2023-02-29')")


def test_decimal_date_time_and_format_date() -> None:
    assert ev("decimal-date-time('1970-01-02')") == 1
    assert ev("decimal-date-time('1970-01-01T12:00:00')") == 0.5
    assert ev("format-date(${dob}, '%Y-%m-%d')") == "1990-06-01"
    assert ev("format-date(${dob}, '%e %b %Y')") == "1 Jun 1990"
    assert ev("format-date(${dob}, '%d.%m.%y')") == "01.06.90"
    assert ev("format-date(${empty}, '%Y')") == ""


def test_dates_as_strings_and_numbers() -> None:
    assert to_string(date(2024, 1, 5)) == "2024-01-05"
    assert to_number(date(1970, 1, 11)) == 10
    assert to_number("1970-01-11") == 10
    assert math.isnan(to_number("2023-02-30"))


# --- selects and repeats -------------------------------------------------------------


@pytest.mark.parametrize("field", ["langs", "langs_str"])
def test_select_multiple_as_list_or_string(field: str) -> None:
    assert ev(f"selected(${{{field}}}, 'ru')") is True
    assert ev(f"selected(${{{field}}}, 'kk')") is False
    assert ev(f"selected-at(${{{field}}}, 0)") == "uz"
    assert ev(f"selected-at(${{{field}}}, 1)") == "ru"
    assert ev(f"selected-at(${{{field}}}, 9)") == ""
    assert ev(f"selected-at(${{{field}}}, -1)") == ""


def test_count_selected() -> None:
    assert ev("count-selected(${langs})") == 2
    assert ev("count-selected(${langs_str})") == 3
    assert ev("count-selected(${empty})") == 0
    assert ev("selected(${empty}, 'uz')") is False
    assert ev("string(${langs})") == "uz ru"


def test_count_and_sum_over_repeats() -> None:
    assert ev("count(${members})") == 2
    assert ev("count(${empty})") == 0
    assert ev("sum(${m_age})") == 42
    assert ev("sum(${empty})") == 0
    assert ev("min(${m_age})") == 12
    assert ev("max(${m_age})") == 30
    assert ev("max(${m_age}, 50)") == 50
    assert ev("min(3, 1, 2)") == 1
    assert math.isnan(ev("max(${empty})"))
    assert math.isnan(ev("min(1, 'x')"))


# --- strings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("string-length('oʻgʻil')", 6),
        ("string-length(${name})", 7),
        ("concat('a', 1, ' ', 2.5, true())", "a1 2.5true"),
        ("concat()", ""),
        ("concat(${empty}, 'x')", "x"),
        ("contains(${name}, 'noz')", True),
        ("contains(${name}, 'x')", False),
        ("starts-with(${name}, 'Dil')", True),
        ("ends-with(${name}, 'za')", True),
        ("substr('abcdef', 2)", "cdef"),
        ("substr('abcdef', 1, 3)", "bc"),
        ("substring('abcdef', 2, 3)", "bcd"),
        ("substring('abcdef', 4)", "def"),
        ("substring-before('1999/04/01', '/')", "1999"),
        ("substring-after('1999/04/01', '/')", "04/01"),
        ("substring-after('abc', 'x')", ""),
        ("translate('bar', 'abc', 'ABC')", "BAr"),
        ("translate('--aaa--', 'abc-', 'ABC')", "AAA"),
        ("normalize-space('  a   b  ')", "a b"),
        ("upper-case('abc')", "ABC"),
        ("lower-case('ÀBC')", "àbc"),
        ("string(12)", "12"),
        ("string(1.5)", "1.5"),
        ("string(0.0000001)", "0.0000001"),
        ("string(true())", "true"),
        ("string(${empty})", ""),
        ("regex('AA1234567', '^[A-Z]{2}[0-9]{7}$')", True),
        ("regex('AA12', '^[A-Z]{2}[0-9]{7}$')", False),
        ("regex('x12y', '[0-9]+')", False),  # a full match, as JavaRosa (Pattern.matches)
        ("regex('x12y', '.*[0-9]+.*')", True),
        ("regex('100100', '[0-9]{6}')", True),
        ("coalesce(${empty}, ${name})", "Dilnoza"),
        ("coalesce(${blank}, ${empty})", ""),
        ("coalesce(${age}, 1)", 42),
    ],
)
def test_string_functions(text: str, expected: Any) -> None:
    assert ev(text) == expected


def test_functions_defaulting_to_current() -> None:
    assert ev("string-length()", current="abcd") == 4
    assert ev("string()", current=5) == "5"
    assert ev("normalize-space()", current=" a  b ") == "a b"
    assert ev("number()", current="7") == 7
    assert ev(". > 3", current=5) is True
    assert ev(". = ''", current=None) is True


def test_bad_regex_is_an_expr_error() -> None:
    with pytest.raises(ExprError, match="regex"):
        ev("regex('a', '(')")


# --- numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("int(3.9)", 3),
        ("int(-3.9)", -3),
        ("int('12')", 12),
        ("number('12.5')", 12.5),
        ("number(' 7 ')", 7),
        ("number(true())", 1),
        ("round(2.5)", 3),
        ("round(-2.5)", -2),
        ("round(2.4)", 2),
        ("round(2.345, 2)", 2.35),
        ("round(1.005, 2)", 1.01),
        ("round(1234.5, -2)", 1200),
        ("floor(2.7)", 2),
        ("floor(-2.1)", -3),
        ("ceiling(2.1)", 3),
        ("ceiling(-2.7)", -2),
        ("abs(-4)", 4),
        ("pow(2, 10)", 1024),
        ("pow(4, 0.5)", 2),
        ("sqrt(16)", 4),
        ("boolean(0)", False),
        ("boolean('0')", True),
        ("boolean(${empty})", False),
        ("boolean(${langs})", True),
        ("true()", True),
        ("false()", False),
        ("if(${age} > 18, 'adult', 'child')", "adult"),
        ("if(${age} > 99, 'old', ${name})", "Dilnoza"),
        ("if(${empty} = '', 0, 100 div ${empty})", 0),
    ],
)
def test_number_functions(text: str, expected: Any) -> None:
    assert ev(text) == expected


@pytest.mark.parametrize(
    "text",
    ["int('')", "number('')", "number('abc')", "number('1e5')", "round('x')", "int(${empty})"],
)
def test_not_a_number(text: str) -> None:
    assert math.isnan(ev(text))


def test_overflow_gives_infinity() -> None:
    assert ev("pow(10, 400)") == math.inf
    assert ev("exp(10000)") == math.inf
    assert math.isnan(ev("sqrt(-1)"))


def test_odk_extras() -> None:
    assert ev("join(', ', ${m_name})") == "Ali, Vali"
    assert ev("join('-', 'a', ${m_age})") == "a-30-12"
    assert ev("indexed-repeat(${m_name}, ${members}, 2)") == "Vali"
    assert ev("indexed-repeat(${m_name}, ${members}, 3)") == ""
    assert ev("checklist(1, 2, true(), false(), ${yes})") is True
    assert ev("checklist(-1, 1, true(), true())") is False
    assert ev("boolean-from-string('true')") is True
    assert ev("boolean-from-string('1')") is True
    assert ev("boolean-from-string('yes')") is False


def test_once_keeps_a_set_value() -> None:
    assert ev("once(5)", current=None) == 5
    assert ev("once(5)", current=3) == 3


# --- Uzbek validators from expressions ---------------------------------------------


def test_validator_functions() -> None:
    pinfl = make_pinfl(date(1985, 3, 14), "f", 301, 7)
    assert ev("pinfl(.)", current=pinfl) is True
    assert ev("pinfl(.)", current=pinfl[:-1] + str((int(pinfl[-1]) + 1) % 10)) is False
    assert ev("pinfl-birthdate(.)", current=pinfl) == date(1985, 3, 14)
    assert ev("pinfl-birthdate(.)", current="123") == ""
    assert ev("int((today() - pinfl-birthdate(.)) div 365.25) >= 18", current=pinfl) is True
    assert ev("phone(.)", current="+998 90 123 45 67") is True
    assert ev("phone(.)", current="12345") is False
    assert ev("passport(.)", current="aa1234567") is True
    assert ev("passport(.)", current="A1234567") is False


def test_register_function() -> None:
    register_function("test-double", lambda v: to_number(v) * 2)
    assert ev("test-double(${age})") == 84
    with pytest.raises(ExprError, match="takes 1 argument"):
        parse("test-double(1, 2)")

    def boom(v: Any) -> Any:
        raise RuntimeError("broken plug-in")

    register_function("test-boom", boom)
    with pytest.raises(ExprError, match="test-boom"):
        ev("test-boom(1)")


def test_reregistering_a_function_drops_cached_parses() -> None:
    register_function("test-arity", lambda a: a)
    assert ev("test-arity(3)") == 3
    register_function("test-arity", lambda a, b: to_number(a) + to_number(b))
    with pytest.raises(ExprError, match="takes 2 arguments, not 1"):
        parse("test-arity(3)")
    assert ev("test-arity(3, 4)") == 7


def test_register_function_with_explicit_arity() -> None:
    register_function("test-any", lambda *xs: len(xs), min_args=1, max_args=2)
    assert ev("test-any(1, 2)") == 2
    with pytest.raises(ExprError, match="1 to 2 arguments"):
        parse("test-any()")


def test_register_function_refuses_unwritable_names() -> None:
    for bad in ("1abc", "a b", "", "f(x)"):
        with pytest.raises(ValueError):
            register_function(bad, lambda: 1)


def test_register_variadic_function() -> None:
    register_function("test-join", lambda *xs: "|".join(to_string(x) for x in xs))
    assert ev("test-join()") == ""
    assert ev("test-join(1, 'a', ${name})") == "1|a|Dilnoza"


# --- bare names (choice filters) -----------------------------------------------------


def test_bare_names_use_resolve_bare() -> None:
    row = {"region": "tash", "name": "chilonzor"}
    ctx = EvalContext(resolve={"region": "tash"}.get, resolve_bare=row.get)
    assert evaluate("region = ${region}", ctx) is True
    assert evaluate("region = ${region} and name != ''", ctx) is True


def test_bare_name_without_resolver_is_an_error() -> None:
    with pytest.raises(ExprError, match="region"):
        ev("region = 'x'")


def test_unknown_field_from_a_strict_resolver() -> None:
    ctx = EvalContext(resolve={"a": 1}.__getitem__)
    assert evaluate("${a} + 1", ctx) == 2
    with pytest.raises(ExprError, match=r"\$\{b\}"):
        evaluate("${b} + 1", ctx)


# --- parsing, references, errors -----------------------------------------------------


def test_references() -> None:
    assert references("${a} + ${b} > count(${rep}) and . != ''") == {"a", "b", "rep"}
    assert references("if(${x}, ${x}, 'y')") == {"x"}
    assert references("1 + 2") == set()
    assert references("${ spaced }") == {"spaced"}


def test_references_of_a_broken_expression_raise() -> None:
    with pytest.raises(ExprError):
        references("${a} +")


def test_parse_is_cached_and_trees_are_comparable() -> None:
    assert parse("${a} + 1") is parse("${a} + 1")
    assert parse("${a}+1") == parse("${a} + 1")


def test_names_with_dashes_dots_and_unicode() -> None:
    assert ev("${first-name}", **{"first-name": "x"}) == "x"
    assert ev("${a.b} = 1", **{"a.b": 1}) is True
    assert ev("${ism}", ism="Oʻ") == "Oʻ"
    assert references("${familiya_ismi}") == {"familiya_ismi"}


def test_word_operators_need_an_operand_on_the_left() -> None:
    # `div` after `(` is a name (a choice column), after a value the operator.
    ctx = EvalContext(resolve=lambda n: 6, resolve_bare={"div": 3, "mod": 4}.get)
    assert evaluate("${a} div 2", ctx) == 3
    assert evaluate("(div) + mod", ctx) == 7
    assert evaluate("div * 2", ctx) == 6


@pytest.mark.parametrize(
    ("text", "fragment", "position"),
    [
        ("1 +", "ends too early", 4),
        ("foo(1)", "unknown function foo()", 1),
        ("if(1, 2)", "if() takes 3 arguments, not 2", 1),
        ("round()", "round() takes 1 to 2 arguments, not 0", 1),
        ("concat('a'", "expected ',' or ')'", 11),
        ("(1 + 2", "expected ')'", 7),
        ("1 + 2)", "unexpected ')'", 6),
        ("${x", "malformed ${...} reference", 1),
        ("${}", "malformed ${...} reference", 1),
        ("'abc", "unterminated string", 1),
        ("1 ** 2", "'*' needs a value", 4),
        ("/data/x", "paths with '/'", 1),
        ("1 + ..", "'..' is only supported in position(..)", 5),
        ("1 # 2", "unexpected character '#'", 3),
        ("1 2", "unexpected number", 3),
        ("${a} ${b}", "unexpected reference", 6),
        ("", "empty expression", 1),
        ("   ", "empty expression", 1),
        ("= 1", "unexpected '='", 1),
        ("f(", "unknown function f()", 1),
        ("true(,)", "unexpected ','", 6),
        ("'it''s'", "unexpected string", 5),
        (". = \u2018yes\u2019", "curly quote", 5),
    ],
)
def test_parse_errors_say_what_and_where(text: str, fragment: str, position: int) -> None:
    with pytest.raises(ExprError) as info:
        parse(text)
    assert fragment in str(info.value)
    assert info.value.pos == position - 1
    assert f"at position {position}" in str(info.value)


def test_errors_are_value_errors() -> None:
    assert issubclass(ExprError, ValueError)


def test_deep_nesting_is_an_expr_error_not_recursion() -> None:
    with pytest.raises(ExprError, match="nested too deeply"):
        parse("(" * 5000 + "1" + ")" * 5000)
    with pytest.raises(ExprError, match="nested too deeply"):
        parse("-" * 5000 + "1")
    with pytest.raises(ExprError, match="nested too deeply"):
        parse("not(" * 500 + "1" + ")" * 500)
    with pytest.raises(ExprError, match="nested too deeply"):
        parse("1 + (" * 500 + "1" + ")" * 500)
    assert ev("(" * 50 + "1" + ")" * 50) == 1


def test_huge_input_is_an_expr_error() -> None:
    with pytest.raises(ExprError, match="too long"):
        parse("1" + " + 1" * 10_000)


@pytest.mark.parametrize("value", [None, 1, ["1"], {"a": 1}])
def test_non_text_is_an_expr_error(value: Any) -> None:
    with pytest.raises(ExprError, match="must be text"):
        parse(value)


def test_evaluation_errors_name_the_expression() -> None:
    with pytest.raises(ExprError) as info:
        ev("1 + date('junk')")
    assert "date()" in str(info.value) and "1 + date('junk')" in str(info.value)
    assert info.value.pos == 4


def test_evaluate_accepts_a_parsed_tree() -> None:
    tree = parse("${age} * 2")
    assert evaluate(tree, EvalContext(resolve=ANSWERS.get)) == 84


# --- public coercions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        ("", False),
        ("0", True),
        ("false", True),
        (0, False),
        (0.0, False),
        (math.nan, False),
        (-1, True),
        ([], False),
        (["a"], True),
        (date(2020, 1, 1), True),
        (True, True),
    ],
)
def test_to_bool(value: Any, expected: bool) -> None:
    assert to_bool(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (True, "true"),
        (3, "3"),
        (3.0, "3"),
        (-0.5, "-0.5"),
        (1e21, "1000000000000000000000"),
        (math.inf, "Infinity"),
        (math.nan, "NaN"),
        (["a", "b"], "a b"),
        (date(2024, 2, 29), "2024-02-29"),
        (datetime(2024, 2, 29, 13, 5), "2024-02-29T13:05:00"),
    ],
)
def test_to_string(value: Any, expected: str) -> None:
    assert to_string(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, 1.0),
        (False, 0.0),
        ("  3.25 ", 3.25),
        ("-2", -2.0),
        (".5", 0.5),
        (7, 7.0),
        (["4"], 4.0),
    ],
)
def test_to_number(value: Any, expected: float) -> None:
    assert to_number(value) == expected
    assert isinstance(to_number(value), float)


@pytest.mark.parametrize("value", [None, "", "abc", "1e3", "1,5", "0x10", {"a": 1}, ["1", "2"]])
def test_to_number_nan(value: Any) -> None:
    assert math.isnan(to_number(value))


def test_module_exports_the_contract() -> None:
    for name in (
        "parse",
        "evaluate",
        "references",
        "EvalContext",
        "ExprError",
        "register_function",
    ):
        assert hasattr(expr, name)
