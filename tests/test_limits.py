"""Unit tests of each evaluation limit (issue 13): string cap, step budget, depth,
calculation chains, regex translation and refusal, checker findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk import engine_eval, expr
from kiosk.calc_chain import chains
from kiosk.catalog import expression_problems
from kiosk.engine import FormSession
from kiosk.engine_json import validate_answers
from kiosk.expr import regex
from kiosk.expr.limits import MAX_CHAIN, MAX_STRING, Budget, LimitError
from kiosk.form import Form
from kiosk.xlsform_load import load_form


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
        (r"b", "abc", False),  # the whole text, as JavaRosa's Pattern.matches
        (r"[\w-\.]+", "a-b.c", True),
        (r"\d+", "12\u0663", False),  # Arabic-Indic three is no \d
        (r"\w+", "Ali", True),
        (r"\w+", "Алишер", False),  # ASCII \w, as Java's
        (r"\s", "\u00a0", False),  # ASCII \s: a no-break space is not one
        (r"\s", "\x0b", True),  # Java's \s has the vertical tab, RE2's has not
        (r"a[\s-]b", "a-b", True),
        (r"a[\s-]b", "a\x0bb", True),
        (r"\S+", "ab\x0b", False),
    ],
)
def test_regex_translation_keeps_java_meaning(pattern: str, text: str, found: bool) -> None:
    assert regex.matches(pattern, text) is found


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


def _form(tmp_path: Path, rows: list[str]) -> Form:
    text = "\n".join(
        [
            "| survey |",
            "| | type | name | label::Uzbek (uz) | label::Russian (ru) | calculation |",
            *rows,
            "| settings |",
            "| | form_id | version | form_title::Uzbek (uz) | form_title::Russian (ru) | category |",
            "| | limits_test | 1 | T | T | social |",
        ]
    )
    path = tmp_path / "form.md"
    path.write_text(text + "\n", encoding="utf-8")
    return load_form(path)  # unchecked: the engine must hold up on its own


def test_a_3000_chain_reaching_the_engine_is_bounded_not_a_crash(tmp_path: Path) -> None:
    rows = ["| | integer | n | N | N | |"]
    rows += [f"| | calculate | k{i} | | | ${{k{i + 1}}} + 1 |" for i in range(2999)]
    rows.append("| | calculate | k2999 | | | ${n} + 1 |")
    form = _form(tmp_path, rows)
    assert "calculation chain too long" in "; ".join(expression_problems(form))
    session = FormSession(form, answers={"n": 1}, lang="en")
    assert session._eval._passes == MAX_CHAIN + 2  # bounded passes, no recursion
    session.validate_all()


def test_a_chain_within_the_limit_settles_in_any_order(tmp_path: Path) -> None:
    rows = ["| | integer | n | N | N | |"]
    rows += [f"| | calculate | k{i} | | | ${{k{i + 1}}} + 1 |" for i in range(49)]
    rows.append("| | calculate | k49 | | | ${n} + 1 |")
    session = FormSession(_form(tmp_path, rows), answers={"n": 1}, lang="en")
    assert session.answers["k0"] == 51  # 50 links, written in the worst order


def test_limit_errors_reach_validate_answers(tmp_path: Path) -> None:
    rows = ["| | text | s | S | S | |", "| | calculate | c0 | | | concat(${s}, ${s}) |"]
    rows += [
        f"| | calculate | c{i} | | | concat(${{c{i - 1}}}, ${{c{i - 1}}}) |" for i in range(1, 40)
    ]
    payload, errors = validate_answers(_form(tmp_path, rows), {"s": "ab"}, "ru")
    assert [e.field for e in errors if e.code == "limit"] == ["c15"]
    assert "65536" in errors[-1].message and "символов" in errors[-1].message
    assert "c15" not in payload.get("answers", payload)


def test_the_recompute_budget_is_shared_by_all_expressions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_eval, "MAX_STEPS_RECOMPUTE", 100)
    rows = ["| | integer | n | N | N | |"]
    rows += [f"| | calculate | k{i} | | | ${{n}} + {i} |" for i in range(100)]
    session = FormSession(_form(tmp_path, rows), answers={"n": 1}, lang="en")
    errors = session.limit_errors()
    assert errors and all("evaluation steps" in str(e) for e in errors.values())
    assert "k0" in session.answers and "k99" not in session.answers


def test_catalog_check_names_row_and_column_of_regex_problems(tmp_path: Path) -> None:
    from kiosk.xlsform_check import check_file

    rows = [
        "| | text | a | A | A | |",
        "| | text | b | B | B | |",
        "| | text | c | C | C | |",
    ]
    _form(tmp_path, rows)  # writes form.md
    path = tmp_path / "form.md"
    text = path.read_text(encoding="utf-8").replace("| calculation |", "| constraint |")
    text = text.replace("| A | A | |", "| A | A | regex(., '(a)\\1') |")
    text = text.replace("| B | B | |", "| B | B | regex(., '(?P<x>a)') |")
    text = text.replace("| C | C | |", "| C | C | regex(., '^(a*)*$') |")
    path.write_text(text, encoding="utf-8")
    issues = check_file(path, lang="ru")
    found = {(i.row, i.column, i.warning) for i in issues}
    assert (2, "constraint", False) in found  # back-reference: RE2 cannot run it
    assert (3, "constraint", False) in found  # (?P<: Java would not compile it
    assert (4, "constraint", True) in found  # catastrophic: a warning
    assert any("обратные ссылки" in i.message for i in issues)
    path.write_text(text.replace("'(a)\\1'", "'.{1000}'"), encoding="utf-8")
    issues = check_file(path, lang="ru")
    assert any(i.row == 2 and not i.warning and "2000" in i.message for i in issues)


def test_catalog_check_flags_an_over_deep_expression(tmp_path: Path) -> None:
    from kiosk.xlsform_check import check_file

    deep = "concat(" * 150 + "'a'" + ")" * 150
    _form(tmp_path, ["| | text | a | A | A | |", f"| | calculate | d | | | {deep} |"])
    issues = check_file(tmp_path / "form.md", lang="en")
    assert any(i.row == 3 and "nested too deeply" in i.message for i in issues)
    issues = check_file(tmp_path / "form.md", lang="ru")
    assert any(i.row == 3 and "вложено слишком глубоко" in i.message for i in issues)


def test_steps_count_the_characters_a_function_reads() -> None:
    """A node is not one step when it reads a 64 Ki string: 200 substring() calls on
    one cost the work of 200 * 65,536 characters (minutes in Python before this was
    counted), so they run out of steps instead."""
    big = "a" * MAX_STRING
    text = " + ".join(["string-length(substring(${b}, 1, 1))"] * 200)
    with pytest.raises(LimitError) as err:
        _ev(text, b=big)
    assert "evaluation steps" in err.value.say("en")
    assert _ev(text, b="ab") == 200  # honest sizes: a handful of steps each


def test_substring_slices_by_position() -> None:
    cases = {
        "substring('12345', 2, 3)": "234",
        "substring('12345', 1.5, 2.6)": "234",
        "substring('12345', 0, 3)": "12",
        "substring('12345', 0 div 0, 3)": "",
        "substring('12345', 1, 0 div 0)": "",
        "substring('12345', -42, 1 div 0)": "12345",
        "substring('12345', -1 div 0, 1 div 0)": "",
        "substring('12345', 2)": "2345",
        "substring('12345', 9)": "",
        "substring('12345', 3, -1)": "",
    }
    for text, want in cases.items():
        assert _ev(text) == want, text


def test_a_regex_too_large_to_run_cheaply_is_refused() -> None:
    """RE2 is linear in the text, times the pattern's program: ``(a|b|c|d){1000}`` (3,004
    instructions) took 1.5 s per search of a 100,000-character text, and each of the
    cached patterns could keep megabytes."""
    from kiosk.expr.limits import MAX_PROGRAM

    refused = regex.refusal("(a|b|c|d){1000}")
    assert refused is not None and str(MAX_PROGRAM) in refused.say("ru")
    assert "слишком сложный" in refused.say("ru")
    assert regex.refusal("^[0-9]{9}$") is None
    assert regex.refusal("^[А-ЯЁа-яё' -]{2,50}$") is None


def test_regex_steps_grow_with_text_and_pattern() -> None:
    """Each search costs steps for the text it reads times its program's size."""
    text = " and ".join(["regex(${t}, '[a-z]{900}')"] * 2)
    with pytest.raises(LimitError):
        _ev(text, t="a" * 60_000)
    assert _ev(text, t="a" * 900) is True


def test_a_choice_filter_shares_one_budget_across_its_choices(tmp_path: Path) -> None:
    """Each choice got a budget of its own: 2,000 choices times a 5,000-node filter ran
    10 s (10,000 by 10,000: minutes) on every look at the question. One look at a
    question's choices now has MAX_STEPS_RECOMPUTE in all; past it, the filter is
    broken, and a broken filter shows every choice."""
    terms = "+".join(["1"] * 2500)
    rows = [
        "| survey |",
        "| | type | name | label::Uzbek (uz) | label::Russian (ru) | choice_filter |",
        f"| | select_one big | c | C | C | {terms} > 0 and name = 'o1' |",
        "| | select_one big | d | D | D | name = 'o1' |",
        "| choices |",
        "| | list_name | name | label::Uzbek (uz) | label::Russian (ru) |",
        *[f"| | big | o{i} | O | O |" for i in range(200)],
        "| settings |",
        "| | form_id | version | form_title::Uzbek (uz) | form_title::Russian (ru) | category |",
        "| | limits_filter | 1 | T | T | social |",
    ]
    path = tmp_path / "filter.md"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    session = FormSession(load_form(path), lang="en")
    assert len(session.choices("c")) == 200  # ~1,000,000 steps: out of them, all shown
    assert [c.name for c in session.choices("d")] == ["o1"]  # an honest filter filters
