"""The form engine: parsing input, checks, relevance, calculations, navigation, drafts."""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.engine import FieldError, FormSession
from kiosk.engine_json import validate_answers
from kiosk.engine_values import BadValue, parse_date, parse_decimal, parse_integer
from kiosk.form import Form
from kiosk.translit import to_cyrillic
from kiosk.validators import make_pinfl
from kiosk.xlsform_load import load_form

FORMS = Path(__file__).parent / "forms"


@functools.cache
def cached_form(name: str) -> Form:
    """Hypothesis runs a test many times; a function-scoped fixture would not do."""
    return load_form(FORMS / name)


TODAY = dt.date(2024, 5, 1)
PINFL = make_pinfl(dt.date(1985, 3, 5), "m", 26, 123)


@pytest.fixture(scope="module")
def basic() -> Form:
    return load_form(FORMS / "basic.md")


@pytest.fixture(scope="module")
def logic() -> Form:
    return load_form(FORMS / "logic.md")


@pytest.fixture(scope="module")
def kinds() -> Form:
    return load_form(FORMS / "kinds.md")


def refs(session: FormSession) -> list[str]:
    return [s.ref for s in session.steps()]


def codes(errors: list[FieldError]) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in errors]


def fill_basic(s: FormSession) -> None:
    for ref, raw in {
        "full_name": "Aliyev Vali",
        "age": "45",
        "married": "yes",
        "consent": "OK",
    }.items():
        assert s.set(ref, raw) == []


# ----- raw input parsing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1 500 000", 1500000),
        ("1\u00a0500", 1500),
        ("-12", -12),
        ("1.500.000", 1500000),
        (7, 7),
        ("", None),
    ],
)
def test_parse_integer(raw: object, value: int | None) -> None:
    assert parse_integer(raw) == value


@pytest.mark.parametrize("raw", ["1,5", "abc", "12a", True, 2.5, "1.50"])
def test_parse_integer_refuses(raw: object) -> None:
    with pytest.raises(BadValue):
        parse_integer(raw)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1,5", 1.5),
        ("1.5", 1.5),
        ("1 500,25", 1500.25),
        ("1,500.25", 1500.25),
        ("1.500,25", 1500.25),
        ("1,500,000", 1500000.0),
        (3, 3.0),
        (" ", None),
    ],
)
def test_parse_decimal(raw: object, value: float | None) -> None:
    assert parse_decimal(raw) == value


@pytest.mark.parametrize("raw", ["1,5,3", "x", "nan", "inf", "1..2", False])
def test_parse_decimal_refuses(raw: object) -> None:
    with pytest.raises(BadValue):
        parse_decimal(raw)


@pytest.mark.parametrize("raw", ["2024-03-05", "05.03.2024", "5.3.2024", "5/3/2024", "05-03-2024"])
def test_parse_date_day_first(raw: str) -> None:
    assert parse_date(raw) == dt.date(2024, 3, 5)


@pytest.mark.parametrize("raw", ["31.02.2024", "2024-13-01", "yesterday", "05.03.24", 20240305])
def test_parse_date_refuses(raw: object) -> None:
    with pytest.raises(BadValue):
        parse_date(raw)


# ----- types, required, constraint, default, read_only, calculation --------------------------


def test_answers_are_typed_and_normalised(basic: Form) -> None:
    s = FormSession(basic, today=TODAY)
    assert s.set("full_name", "  Aliyev\u0000  Vali ") == []
    assert s.value("full_name") == "Aliyev Vali"
    assert s.set("age", "45") == []
    assert s.value("age") == 45
    assert s.set("income", "1 500,5") == []
    assert s.value("income") == 1500.5
    assert s.set("visit_date", "05.03.2024") == []
    assert s.value("visit_date") == dt.date(2024, 3, 5)
    assert s.set("documents", "passport birth") == []
    assert s.value("documents") == ["passport", "birth"]
    assert s.set("documents", ["diploma"]) == []
    assert s.value("documents") == ["diploma"]
    assert s.set("consent", "OK") == []


def test_bad_input_is_kept_with_a_clear_error(basic: Form) -> None:
    s = FormSession(basic, lang="en")
    errors = s.set("age", "forty")
    assert codes(errors) == [("age", "type")]
    assert "Yoshingiz" in errors[0].message
    assert s.value("age") == "forty"  # the screen keeps what was typed
    assert codes(s.set("visit_date", "31.02.2024")) == [("visit_date", "type")]
    assert codes(s.set("married", "maybe")) == [("married", "choice")]
    assert codes(s.set("documents", "passport nope")) == [("documents", "choice")]


def test_required_message_per_language(basic: Form) -> None:
    s = FormSession(basic, lang="ru")
    assert s.next() == [FieldError("full_name", "Напишите имя", "required")]
    s.lang = "uz_Latn"
    assert s.next()[0].message == "Ismingizni yozing"
    s.lang = "uz_Cyrl"
    assert s.next()[0].message == to_cyrillic("Ismingizni yozing")


def test_required_default_message_names_the_field(basic: Form) -> None:
    s = FormSession(basic, lang="en")
    s.set("full_name", "Vali")
    assert s.next() == []
    errors = s.next()
    assert codes(errors) == [("age", "required")]
    assert errors[0].message == "Yoshingiz: this answer is required"


def test_constraint_message_per_language(basic: Form) -> None:
    s = FormSession(basic, lang="ru")
    assert [e.message for e in s.set("age", "12")] == ["Возраст от 18 до 120"]
    s.lang = "uz_Latn"
    assert [e.message for e in s.set("age", "130")] == ["Yosh 18 dan 120 gacha"]
    assert s.set("age", "18") == []


def test_constraint_without_message(basic: Form) -> None:
    s = FormSession(basic, lang="en")
    errors = s.set("income", "-1")
    assert codes(errors) == [("income", "constraint")]
    assert errors[0].message.startswith("Daromad:")


def test_empty_optional_answer_skips_constraint(basic: Form) -> None:
    s = FormSession(basic)
    assert s.set("income", "") == []
    assert s.value("income") is None


def test_default_and_read_only(basic: Form) -> None:
    s = FormSession(basic, lang="en")
    assert s.value("office") == "Mahalla markazi"
    assert codes(s.set("office", "Other")) == [("office", "read_only")]
    assert s.value("office") == "Mahalla markazi"
    assert s.payload()["office"] == "Mahalla markazi"


def test_dynamic_default_uses_today(logic: Form) -> None:
    s = FormSession(logic, today=TODAY)
    assert s.value("start_date") == TODAY
    assert s.value("copies") == 1
    assert codes(s.set("start_date", "01.01.2020")) == [("start_date", "constraint")]


def test_calculation_recomputed_after_each_answer(basic: Form) -> None:
    s = FormSession(basic)
    assert s.value("age_next") is None
    s.set("age", "40")
    assert s.value("age_next") == 41
    s.set("age", "")
    assert s.value("age_next") is None


def test_calculations_in_dependency_order(logic: Form) -> None:
    # total_fee comes first in the form but reads fee, which reads copies.
    s = FormSession(logic, today=TODAY)
    assert s.value("total_fee") == 10000
    s.set("copies", "3")
    assert (s.value("fee"), s.value("total_fee")) == (5000, 15000)
    assert s.label("fee_note") == "Toʻlov: 15\u00a0000 soʻm"
    s.lang = "ru"
    assert s.label("fee_note") == "Оплата: 15\u00a0000 сум"


def test_broken_calculation_is_empty_not_a_crash(logic: Form) -> None:
    s = FormSession(logic, today=TODAY)
    assert s.value("broken") is None
    assert "broken" not in s.payload()


def test_acknowledge(basic: Form) -> None:
    s = FormSession(basic, lang="en")
    assert codes(s.set("consent", "")) == [("consent", "required")]
    assert s.set("consent", True) == []
    assert s.value("consent") == "OK"


# ----- relevance -----------------------------------------------------------------------------


def test_relevance_hides_steps(logic: Form) -> None:
    s = FormSession(logic, today=TODAY)
    assert refs(s) == [
        "has_children",
        "region",
        "district",
        "city",
        "copies",
        "fee_note",
        "start_date",
        "benefits",
    ]
    s.set("has_children", "yes")
    assert refs(s)[:3] == ["has_children", "children_count", "region"]
    s.set("children_count", "2")
    assert refs(s)[:4] == ["has_children", "children_count", "eldest_name", "region"]


def test_group_relevance_hides_all_children(logic: Form) -> None:
    s = FormSession(logic, today=TODAY)
    s.set("has_children", "no")
    assert refs(s)[:3] == ["has_children", "employer", "salary"]
    s.set("has_children", "yes")
    assert "employer" not in refs(s) and "salary" not in refs(s)


def test_non_relevant_answers_dropped_from_payload_but_kept_in_session(logic: Form) -> None:
    s = FormSession(logic, today=TODAY)
    s.set("has_children", "yes")
    s.set("children_count", "3")
    s.set("eldest_name", "Nodira")
    s.set("has_children", "no")
    s.set("employer", "Maktab")
    payload = s.payload()
    assert "children_count" not in payload and "eldest_name" not in payload
    assert payload["employer"] == "Maktab"
    # Flip back: the earlier answers come back on screen.
    s.set("has_children", "yes")
    assert s.value("children_count") == 3 and s.value("eldest_name") == "Nodira"
    assert "employer" not in s.payload()
    assert s.payload()["eldest_name"] == "Nodira"


def test_non_relevant_required_field_is_not_checked(logic: Form) -> None:
    s = FormSession(logic, today=TODAY)
    s.set("has_children", "no")
    s.set("employer", "Bozor")
    s.set("region", "tosh")
    s.set("district", "chil")
    assert s.validate_all() == []


def test_required_as_expression(logic: Form) -> None:
    s = FormSession(logic, today=TODAY)
    s.set("has_children", "yes")
    s.set("children_count", "1")
    s.jump("eldest_name")
    assert s.next() == []  # optional with one child
    s.set("children_count", "3")
    s.jump("eldest_name")
    assert codes(s.next()) == [("eldest_name", "required")]


def test_select_multiple_in_expressions(logic: Form) -> None:
    s = FormSession(logic, lang="ru", today=TODAY)
    s.set("benefits", ["veteran"])
    assert "disability_doc" not in refs(s) and "benefit_count" not in refs(s)
    s.set("benefits", "veteran disability")
    assert refs(s)[-3:] == ["benefits", "disability_doc", "benefit_count"]
    assert [e.message for e in s.set("benefit_count", "3")] == ["Число не совпадает"]
    assert s.set("benefit_count", "2") == []
    assert s.is_required("disability_doc")


def test_choice_filter(logic: Form) -> None:
    s = FormSession(logic, today=TODAY)
    assert [c.name for c in s.choices("district")] == []
    s.set("region", "tosh")
    assert [c.name for c in s.choices("district")] == ["chil", "yunus"]
    assert s.set("district", "yunus") == []
    s.set("region", "sam")
    assert [c.name for c in s.choices("district")] == ["urgut"]
    # The old answer no longer fits the filter: an error, not silently kept.
    assert ("district", "choice") in codes(s.validate_all())
    # A filter over a choice file's columns works the same way.
    assert [c.name for c in s.choices("city")] == ["samarkand"]


# ----- navigation ----------------------------------------------------------------------------


def test_next_back_progress_and_review(basic: Form) -> None:
    s = FormSession(basic, lang="en")
    assert s.current is not None and s.current.ref == "full_name"
    assert s.progress() == (1, 9)
    assert codes(s.next()) == [("full_name", "required")]
    assert s.current.ref == "full_name"  # did not move
    fill_basic(s)
    seen = []
    while not s.at_review:
        seen.append(s.current.ref)
        assert s.next() == []
    assert seen == refs(s)
    assert s.current is None
    s.back()
    assert s.current.ref == "office"
    s.back()
    s.back()
    assert s.current.ref == "intro_note"
    assert s.progress() == (7, 9)


def test_back_at_first_step_stays(basic: Form) -> None:
    s = FormSession(basic)
    s.back()
    assert s.current.ref == "full_name"


def test_back_skips_steps_made_non_relevant(logic: Form) -> None:
    s = FormSession(logic, today=TODAY)
    s.set("has_children", "yes")
    s.set("children_count", "2")
    s.jump("region")
    s.back()
    assert s.current.ref == "eldest_name"
    s.set("has_children", "no")
    s.jump("region")
    s.back()
    assert s.current.ref == "salary"


def test_position_made_non_relevant_moves_to_next_step(logic: Form) -> None:
    s = FormSession(logic, today=TODAY)
    s.set("has_children", "yes")
    s.jump("children_count")
    s.set("has_children", "no")
    assert s.current.ref == "employer"  # the next step after it in the form


def test_jump_from_review(basic: Form) -> None:
    s = FormSession(basic, lang="en")
    fill_basic(s)
    s.jump("#review")
    assert s.at_review
    s.jump("age")
    assert s.current.ref == "age"
    with pytest.raises(KeyError):
        s.jump("nope")


def test_review_items(basic: Form) -> None:
    s = FormSession(basic, lang="ru")
    fill_basic(s)
    s.set("documents", "passport birth")
    s.set("visit_date", "2024-03-05")
    items = {i.ref: i for i in s.review()}
    assert "intro_note" not in items and "age_next" not in items
    assert items["married"].label == "Состоите в браке?"
    assert items["married"].display == "Да"
    assert items["documents"].display == "Паспорт, Свидетельство о рождении"
    assert "2024" in items["visit_date"].display and "5" in items["visit_date"].display
    assert items["age"].display == "45"
    s.lang = "uz_Latn"
    assert {i.ref: i for i in s.review()}["married"].display == "Ha"


def test_language_switch_keeps_answers(basic: Form) -> None:
    s = FormSession(basic, lang="uz_Latn")
    fill_basic(s)
    s.jump("married")
    before = s.payload()
    s.lang = "uz_Cyrl"
    assert s.payload() == before
    assert s.current.ref == "married"
    assert s.current.question.label(s.lang) == to_cyrillic("Turmush qurganmisiz?")
    with pytest.raises(ValueError):
        s.lang = "fr"


def test_unknown_ref_is_a_key_error(basic: Form) -> None:
    s = FormSession(basic)
    with pytest.raises(KeyError):
        s.set("nope", "1")
    with pytest.raises(KeyError):
        s.value("age[0]/x")


# ----- Uzbek validators by kind --------------------------------------------------------------


def test_pinfl_kind(kinds: Form) -> None:
    s = FormSession(kinds, lang="en")
    errors = s.set("pinfl", "1234")
    assert codes(errors) == [("pinfl", "pinfl")]
    assert errors[0].message.startswith("ЖШШИР: ")  # uz_Cyrl label; en has none of its own
    assert "14" in errors[0].message
    assert s.set("pinfl", f"{PINFL[:7]} {PINFL[7:]}") == []
    assert s.value("pinfl") == PINFL


def test_phone_kind_normalises_to_e164(kinds: Form) -> None:
    s = FormSession(kinds, lang="ru")
    assert s.set("phone", "90 123 45 67") == []
    assert s.value("phone") == "+998901234567"
    assert [i.display for i in s.review() if i.ref == "phone"] == ["+998 90 123 45 67"]
    errors = s.set("phone", "12345")
    assert codes(errors) == [("phone", "phone")]
    assert errors[0].message.startswith("Ваш телефон: ")
    assert s.value("phone") == "12345"


def test_passport_kind_and_form_constraint(kinds: Form) -> None:
    s = FormSession(kinds, lang="ru")
    assert s.set("passport", "aa 123 45 67") == []
    assert s.value("passport") == "AA1234567"
    assert codes(s.set("passport", "A12")) == [("passport", "passport")]
    # The validator passes; the form's own constraint still applies.
    assert [e.message for e in s.set("passport", "XX1234567")] == ["Серия XX недопустима"]


# ----- drafts --------------------------------------------------------------------------------


def test_draft_round_trip(logic: Form) -> None:
    s = FormSession(logic, lang="ru", today=TODAY)
    s.set("has_children", "yes")
    s.set("children_count", "forty")  # invalid input survives a power cut too
    s.set("region", "tosh")
    s.jump("region")
    state = s.draft_state()
    restored = FormSession.from_draft(logic, json.loads(json.dumps(state)), today=TODAY)
    assert restored.draft_state() == state
    assert restored.current.ref == "region"
    assert restored.lang == "ru"
    assert restored.value("children_count") == "forty"
    assert restored.value("start_date") == TODAY
    assert restored.payload() == s.payload()
    assert state["answers"]["start_date"] == "2024-05-01"


def test_draft_at_review_round_trips(basic: Form) -> None:
    s = FormSession(basic)
    fill_basic(s)
    s.jump("#review")
    restored = FormSession.from_draft(basic, json.loads(json.dumps(s.draft_state())))
    assert restored.at_review


# ----- validate_answers ----------------------------------------------------------------------


def test_validate_answers_good(basic: Form) -> None:
    answers = {
        "full_name": "Aliyev Vali",
        "age": 45,
        "income": 1500.5,
        "visit_date": "2024-03-05",
        "married": "no",
        "documents": "passport diploma",
        "consent": "OK",
        "office": "Mahalla markazi",
    }
    payload, errors = validate_answers(basic, answers, "en")
    assert errors == []
    assert payload == {**answers, "documents": ["passport", "diploma"], "age_next": 46}
    # A payload validates again to itself.
    assert validate_answers(basic, payload, "en") == (payload, [])


def test_validate_answers_matches_the_ui(logic: Form) -> None:
    s = FormSession(logic, today=TODAY)
    for ref, raw in [
        ("has_children", "yes"),
        ("children_count", "2"),
        ("eldest_name", "Nodira"),
        ("region", "tosh"),
        ("district", "chil"),
        ("city", "tashkent"),
        ("copies", "3"),
    ]:
        assert s.set(ref, raw) == []
    assert s.validate_all() == []
    payload, errors = validate_answers(logic, s.payload(), "uz_Latn", today=TODAY)
    assert errors == []
    assert payload == s.payload()


def test_validate_answers_bad(basic: Form) -> None:
    answers = {
        "full_name": ["not", "text"],
        "age": "old",
        "income": -5,
        "visit_date": "2024/03/05x",
        "married": "perhaps",
        "documents": 7,
        "surname": "x",
        "age_next": 99,
    }
    payload, errors = validate_answers(basic, answers, "en")
    got = codes(errors)
    assert ("surname", "unknown") in got
    assert ("full_name", "type") in got
    assert ("age", "type") in got
    assert ("visit_date", "type") in got
    assert ("documents", "type") in got
    assert ("income", "constraint") in got
    assert ("married", "choice") in got
    assert ("consent", "required") in got
    assert all(isinstance(e.message, str) and e.message for e in errors)
    assert "surname" not in payload
    assert "age_next" not in payload  # calculated, never taken from the input


def test_validate_answers_drops_non_relevant(logic: Form) -> None:
    answers = {
        "has_children": "no",
        "children_count": 3,
        "employer": "Bozor",
        "region": "tosh",
        "district": "chil",
    }
    payload, errors = validate_answers(logic, answers, "ru", today=TODAY)
    assert errors == []
    assert "children_count" not in payload
    assert payload["employer"] == "Bozor"


@pytest.mark.parametrize("answers", [[], "text", None, 5])
def test_validate_answers_not_an_object(basic: Form, answers: object) -> None:
    payload, errors = validate_answers(basic, answers, "en")
    assert payload == {} and codes(errors) == [("", "type")]


def test_validate_answers_normalises_kinds(kinds: Form) -> None:
    payload, errors = validate_answers(
        kinds, {"pinfl": PINFL, "phone": "+998 90 123-45-67", "passport": "аа1234567"}, "ru"
    )
    assert errors == []
    assert payload == {"pinfl": PINFL, "phone": "+998901234567", "passport": "AA1234567"}
    _, errors = validate_answers(
        kinds, {"pinfl": PINFL[:-1] + "0" if PINFL[-1] != "0" else PINFL[:-1] + "1"}, "ru"
    )
    assert codes(errors) == [("pinfl", "pinfl")]


def test_check_and_is_required_follow_the_answers(logic: Form) -> None:
    s = FormSession(logic, lang="en", today=TODAY)
    s.set("has_children", "yes")
    s.set("children_count", "1")
    assert s.is_required("children_count") and not s.is_required("eldest_name")
    assert s.check("eldest_name") == []
    s.set("children_count", "3")
    assert s.is_required("eldest_name")
    assert codes(s.check("eldest_name")) == [("eldest_name", "required")]
    assert not s.is_required("fee_note")


# ----- whatever is typed: no crash, and the draft round-trips -----------------------------

_RAW = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "1 500", "1,5", "05.03.2024", "yes", "no", "tosh", "OK", "-0"]),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.lists(st.sampled_from(["passport", "birth", "x"]), max_size=3),
    st.booleans(),
)


@pytest.mark.parametrize("name", ["basic.md", "logic.md", "kinds.md"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_any_input_never_crashes_and_drafts_round_trip(name: str, data: st.DataObject) -> None:
    form = cached_form(name)
    s = FormSession(form, lang="ru", today=TODAY)
    for _ in range(6):
        steps = [st_ for st_ in s.steps() if st_.question.is_input and not st_.question.read_only]
        step = data.draw(st.sampled_from(steps))
        errors = s.set(step.ref, data.draw(_RAW))
        assert all(e.message for e in errors)
        s.next()
    s.validate_all()
    state = json.loads(json.dumps(s.draft_state()))
    restored = FormSession.from_draft(form, state, today=TODAY)
    assert restored.draft_state() == s.draft_state()
    assert restored.payload() == s.payload()
    json.dumps(s.payload())  # JSON-ready whatever was typed


def test_questions_computed_by_the_form() -> None:
    form = cached_form("computed.md")
    s = FormSession(form, lang="en", today=TODAY)
    assert s.value("due") == dt.date(2024, 5, 11)
    assert s.set("price", "1000") == []
    assert (s.value("price_with_tax"), s.value("price_text")) == (1120, "1000 soʻm")
    assert codes(s.set("price_with_tax", "5")) == [("price_with_tax", "read_only")]
    assert s.value("price_with_tax") == 1120
    assert s.validate_all() == []
    payload = s.payload()
    assert payload == {
        "price": 1000,
        "price_with_tax": 1120,
        "due": "2024-05-11",
        "price_text": "1000 soʻm",
    }
    # From JSON, computed values are recomputed, never taken from the input.
    forged = {**payload, "price_with_tax": 1}
    assert validate_answers(form, forged, "en", today=TODAY) == (payload, [])


def test_input_that_did_not_parse_feeds_no_calculation(basic: Form) -> None:
    s = FormSession(basic)
    s.set("age", "40")
    assert s.value("age_next") == 41
    s.set("age", "forty")
    assert s.value("age") == "forty" and s.value("age_next") is None


@pytest.mark.parametrize("raw", ["9" * 5000, "1" + "0" * 25, 10**400])
def test_absurdly_large_numbers_are_type_errors(basic: Form, raw: object) -> None:
    s = FormSession(basic, lang="en")
    assert codes(s.set("age", raw)) == [("age", "type")]
    assert codes(s.set("income", raw)) == [("income", "type")]
    s.review()  # shows what was typed, no crash
