"""ODK's functions beyond XPath 1.0 (kiosk.expr.odk, instance() lookups, ${last-saved#x}).

Expected values come from ODK's documentation and, where JavaRosa has the function, from
JavaRosa itself: tests/forms/odk_functions.md runs through both engines in
tests/test_javarosa_diff.py (randomize(..., 42) below is the order JavaRosa gave).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from kiosk.engine import FormSession
from kiosk.expr import EvalContext, ExprError, evaluate, parse, references
from kiosk.expr.limits import Budget, LimitError
from kiosk.xlsform_load import load_form

FORMS = Path(__file__).parent / "forms"
ITEMS = [
    {"name": n, "label": lab, "price": p}
    for n, lab, p in [
        ("bread", "Non", "4000"),
        ("milk", "Sut", "12000"),
        ("tea", "Choy", "9000"),
        ("rice", "Guruch", "15000"),
        ("salt", "Tuz", "2000"),
    ]
]


def ctx(**values: object) -> EvalContext:
    lists = {"item": ITEMS, "prices": ITEMS}
    return EvalContext(values.get, instance=lists.get, seed=7, site="x")


def ev(text: str, **values: object) -> object:
    return evaluate(text, ctx(**values))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("instance('item')/root/item[name = ${x}]/label", ["Sut"]),
        ("string(instance('item')/root/item[name = ${x}]/price)", "12000"),
        ("count(instance('item')/root/item[price < 10000])", 3),
        ("instance('item')/root/item[2]/name", ["milk"]),
        ("instance('item')/root/item[name = 'none']/label", []),
        ("pulldata('prices', 'price', 'name', ${x})", "12000"),
        ("pulldata('prices', 'price', 'name', 'coffee')", ""),
        ("count-non-empty(${list})", 2),
        ("round(sin(pi() div 2), 6)", 1),
        ("round(cos(0), 6)", 1),
        ("round(tan(pi() div 4), 6)", 1),
        ("round(asin(1) * 2, 6)", round(math.pi, 6)),
        ("round(acos(-1), 6)", round(math.pi, 6)),
        ("round(atan(1) * 4, 6)", round(math.pi, 6)),
        ("round(atan2(1, 1) * 4, 6)", round(math.pi, 6)),
        ("exp10(3)", 1000),
        ("log10(1000)", 3),
        ("sqrt(16)", 4),
        ("pow(2, 10)", 1024),
        ("string(asin(2))", "NaN"),
        ("digest('abc', 'MD5', 'hex')", "900150983cd24fb0d6963f7d28e17f72"),
        ("digest('abc', 'SHA-1', 'hex')", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("digest('abc', 'SHA-256')", "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="),
        (
            "digest('abc', 'sha-384', 'hex')",
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
        ),
        ("string-length(digest('abc', 'SHA-512'))", 88),
        ("join(' ', randomize(instance('item')/root/item/name, 42))", "bread salt tea milk rice"),
        ("current()", None),
        ("position(..)", 1),
        ("${last-saved#x}", ""),
        ("concat('a', ${ last-saved#name }, 'b')", "ab"),
    ],
)
def test_odk_functions(text: str, expected: object) -> None:
    assert ev(text, x="milk", list=["a", "", "b"]) == expected


def test_current_and_relative_paths() -> None:
    c = EvalContext({"a": "1"}.get, current="me", instance={"item": ITEMS}.get)
    assert evaluate("current()", c) == "me"
    assert evaluate("../a + current()/../a", c) == 2
    assert references("../a = 1 and ../../b = 2") == {"a", "b"}
    assert references("instance('item')/root/item[name = ${x}]/label") == {"x"}


@pytest.mark.parametrize(
    "text",
    [
        "instance('nowhere')/root/item/name",
        "pulldata('nowhere', 'a', 'b', 'c')",
        "digest('abc', 'SHA-3')",
        "digest('abc', 'MD5', 'base32')",
    ],
)
def test_bad_uses_are_expression_errors(text: str) -> None:
    with pytest.raises(ExprError):
        ev(text)


def test_paths_other_than_lookups_are_refused_clearly() -> None:
    with pytest.raises(ExprError, match="root/item"):
        parse("instance('a')/root/item/name/x")
    with pytest.raises(ExprError, match="position"):
        parse("1 + ..")


def test_lookups_spend_the_step_budget() -> None:
    rows = [{"name": str(i)} for i in range(5000)]
    c = EvalContext({}.get, instance={"big": rows}.get, budget=Budget(1000))
    with pytest.raises(LimitError):
        evaluate("count(instance('big')/root/item[name = 'x'])", c)


def test_random_is_the_same_for_a_session_and_differs_between_sessions() -> None:
    a = [evaluate("random()", EvalContext({}.get, seed=1, site="f")) for _ in range(2)]
    b = evaluate("random()", EvalContext({}.get, seed=2, site="f"))
    assert a[0] == a[1] and a[0] != b and 0 <= b < 1
    two = evaluate("random() = random()", EvalContext({}.get, seed=1, site="f"))
    assert two is False  # two draws in one expression differ


def test_randomize_follows_javarosa_for_a_text_seed_and_keeps_items() -> None:
    out = ev("randomize(instance('item')/root/item/name, 'seed')")
    assert sorted(out) == sorted(r["name"] for r in ITEMS)  # type: ignore[arg-type]


def test_engine_functions_in_a_form() -> None:
    form = load_form(FORMS / "odk_functions.md")
    s = FormSession(form, seed=5)
    s.set("item", "milk")
    s.set("code", "AB123")
    assert s.value("item_label") == "Sut"
    assert s.value("chosen") == "Sut"
    assert s.value("first") == "milk"
    s.set("item", "tea")
    assert s.value("first") == "milk"  # once(): kept
    assert s.value("item_label") == "Choy"
    assert s.check("code") == []
    s.set("code", "xAB123")
    assert [e.code for e in s.check("code")] == ["constraint"]  # a full match
    s.set("zip", "\u0661\u0660\u0660\u0661\u0660\u0660")
    assert [e.code for e in s.check("zip")] == ["constraint"]  # Arabic-Indic digits


def test_pulldata_reads_the_csv_beside_the_form(tmp_path: Path) -> None:
    (tmp_path / "prices.csv").write_text("name,price\nbread,4000\nmilk,12000\n", "utf-8")
    (tmp_path / "f.md").write_text(
        "| survey |\n| | type | name | label | calculation |\n"
        "| | text | item | Item | |\n"
        "| | calculate | price | | pulldata('prices', 'price', 'name', ${item}) |\n",
        "utf-8",
    )
    s = FormSession(load_form(tmp_path / "f.md"))
    s.set("item", "milk")
    assert s.value("price") == "12000"


def test_random_seed_survives_a_draft() -> None:
    form = load_form(FORMS / "odk_functions.md")
    s = FormSession(form)
    again = FormSession.from_draft(form, s.draft_state())
    assert again.seed == s.seed


def test_position_in_a_repeat(tmp_path: Path) -> None:
    (tmp_path / "r.md").write_text(
        "| survey |\n| | type | name | label | calculation |\n"
        "| | begin_repeat | kids | Kids | |\n"
        "| | text | kid | Kid | |\n"
        "| | calculate | n | | position(..) |\n"
        "| | end_repeat | | | |\n",
        "utf-8",
    )
    s = FormSession(load_form(tmp_path / "r.md"))
    s.add_repeat("kids")
    s.add_repeat("kids")
    assert [s.value("kids[0]/n"), s.value("kids[1]/n")] == [1, 2]


def test_itext_gives_a_translated_choice_label(tmp_path: Path) -> None:
    (tmp_path / "t.md").write_text(
        "| survey |\n| | type | name | label::English (en) | calculation |\n"
        "| | select_one c | pick | Pick | |\n"
        "| | calculate | shown | | jr:itext(instance('c')/root/item[name = ${pick}]/itextId) |\n"
        "| choices |\n| | list_name | name | label::English (en) | label::Russian (ru) |\n"
        "| | c | a | Apple | Яблоко |\n| | c | b | Pear | Груша |\n",
        "utf-8",
    )
    s = FormSession(load_form(tmp_path / "t.md"), lang="ru")
    s.set("pick", "b")
    assert s.value("shown") == "Груша"
    assert ev("jr:itext('nowhere-3')") == ""


def test_whitespace_only_text_is_no_answer_on_a_required_question(tmp_path: Path) -> None:
    """ODK Collect accepts "   " there; the kiosk refuses it (docs/javarosa.md)."""
    (tmp_path / "w.md").write_text(
        "| survey |\n| | type | name | label | required |\n| | text | name | Name | yes |\n",
        "utf-8",
    )
    s = FormSession(load_form(tmp_path / "w.md"))
    assert [e.code for e in s.set("name", "   ")] == ["required"]
    assert s.set("name", "  Ali ") == [] and s.value("name") == "Ali"
