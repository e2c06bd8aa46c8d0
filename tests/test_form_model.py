"""The form model built from pyxform JSON: settings, question tree, texts per language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.form import Form, FormError, column_lang, pick_text
from kiosk.translit import to_cyrillic, to_latin
from kiosk.xlsform_load import load_form, load_spec

FORMS = Path(__file__).parent / "forms"


@pytest.fixture(scope="module")
def basic() -> Form:
    return load_form(FORMS / "basic.md")


def test_settings(basic: Form) -> None:
    assert basic.id == "basic_test"
    assert basic.version == "2024050101"
    assert basic.category == "social"
    assert basic.title("uz_Latn") == "Sinov arizasi"
    assert basic.title("ru") == "Тестовое заявление"
    assert basic.documents("ru") == ["Паспорт", "Фото"]
    assert basic.documents("uz_Latn") == ["Pasport", "Fotosurat"]
    assert basic.description("uz_Latn") == "Hamma turdagi savollar"
    assert basic.spec["id_string"] == "basic_test"


def test_cyrillic_uzbek_is_transliterated_from_latin(basic: Form) -> None:
    assert basic.title("uz_Cyrl") == to_cyrillic("Sinov arizasi")
    assert basic.documents("uz_Cyrl") == [to_cyrillic("Pasport"), to_cyrillic("Fotosurat")]
    assert basic["full_name"].label("uz_Cyrl") == to_cyrillic("Toʻliq ismingiz")
    assert basic["married"].choices[1].label("uz_Cyrl") == to_cyrillic("Yoʻq")


def test_latin_uzbek_is_transliterated_from_cyrillic() -> None:
    form = load_form(FORMS / "kinds.md")
    assert form["pinfl"].label("uz_Cyrl") == "ЖШШИР"
    assert form["pinfl"].label("uz_Latn") == to_latin("ЖШШИР")
    assert form["phone"].label("uz_Latn") == "Telefon raqamingiz"
    assert form["pinfl"].label("ru") == "ПИНФЛ"
    assert form.title("uz_Latn") == "Tekshiruvlar"


def test_question_types_in_document_order(basic: Form) -> None:
    assert [(q.name, q.type) for q in basic.walk()] == [
        ("full_name", "text"),
        ("age", "integer"),
        ("income", "decimal"),
        ("visit_date", "date"),
        ("married", "select_one"),
        ("documents", "select_multiple"),
        ("intro_note", "note"),
        ("consent", "acknowledge"),
        ("office", "text"),
        ("age_next", "calculate"),
    ]


def test_question_attributes(basic: Form) -> None:
    name = basic["full_name"]
    assert name.required == "true()"
    assert name.hint("ru") == "Фамилия, имя"
    assert name.required_message("ru") == "Напишите имя"
    age = basic["age"]
    assert age.constraint == ". >= 18 and . <= 120"
    assert age.constraint_message("ru") == "Возраст от 18 до 120"
    assert basic["income"].required is None
    office = basic["office"]
    assert office.read_only and office.default == "Mahalla markazi"
    assert basic["age_next"].calculation == "${age} + 1"
    assert [c.name for c in basic["documents"].choices] == ["passport", "birth", "diploma"]


def test_groups_and_repeats_nest_children() -> None:
    form = load_form(FORMS / "repeats.md")
    members = form["members"]
    assert members.type == "repeat"
    assert [c.name for c in members.children] == ["member_name", "member_age", "school", "is_adult"]
    assert form["room"].repeat_count == "${rooms}"
    assert form["width"].repeats == ("room", "window")
    assert form["member_count"].repeats == ()
    logic = load_form(FORMS / "logic.md")
    assert logic["work"].type == "group"
    assert logic["work"].relevant == "${has_children} = 'no'"
    assert [c.name for c in logic["work"].children] == ["employer", "salary"]


def test_choice_extra_columns_and_filter() -> None:
    form = load_form(FORMS / "logic.md")
    district = form["district"]
    assert district.choice_filter == "region=${region}"
    assert {c.name: c.extra["region"] for c in district.choices} == {
        "chil": "tosh",
        "yunus": "tosh",
        "urgut": "sam",
    }


def test_kinds_from_appearance() -> None:
    form = load_form(FORMS / "kinds.md")
    assert [(q.name, q.kind) for q in form.walk()] == [
        ("pinfl", "pinfl"),
        ("phone", "phone"),
        ("passport", "passport"),
        ("comment", None),
    ]


def test_pyxform_meta_group_is_not_a_question(basic: Form) -> None:
    assert "meta" not in {q.name for q in basic.walk()}
    assert "instanceID" not in {q.name for q in basic.walk()}


def test_unsupported_type_is_a_form_error() -> None:
    spec = load_spec(FORMS / "basic.md")
    spec["children"][0] = {"type": "geopoint", "name": "where", "label": "Where"}
    with pytest.raises(FormError, match="geopoint"):
        Form.from_pyxform(spec)


def test_not_a_survey_is_a_form_error() -> None:
    with pytest.raises(FormError):
        Form.from_pyxform({"type": "group", "children": []})


@pytest.mark.parametrize(
    ("column", "lang"),
    [
        ("Uzbek (uz)", "uz_Latn"),
        ("Uzbek (uz-Latn)", "uz_Latn"),
        ("Oʻzbekcha (uz-Cyrl)", "uz_Cyrl"),
        ("Russian (ru)", "ru"),
        ("English (en)", "en"),
        ("default", "default"),
        ("French (fr)", None),
        ("Uzbek", None),
    ],
)
def test_column_lang(column: str, lang: str | None) -> None:
    assert column_lang(column) == lang


def test_pick_text_falls_back() -> None:
    assert pick_text({"ru": "Имя"}, "uz_Latn") == "Имя"
    assert pick_text({"default": "Ism"}, "ru") == "Ism"
    # Only Uzbek Latin is transliterated: a default text may be any language (English).
    assert pick_text({"default": "Name"}, "uz_Cyrl") == "Name"
    assert pick_text({"uz_Latn": "Ism"}, "uz_Cyrl") == to_cyrillic("Ism")
    assert pick_text({}, "ru") == ""


def test_spec_survives_json_round_trip() -> None:
    """The catalog stores the spec as JSON text and rebuilds the Form from it."""
    spec = load_spec(FORMS / "logic.md")
    again = Form.from_pyxform(json.loads(json.dumps(spec)))
    original = Form.from_pyxform(spec)
    assert [(q.name, q.type, q.relevant, len(q.choices)) for q in again.walk()] == [
        (q.name, q.type, q.relevant, len(q.choices)) for q in original.walk()
    ]
    assert again["city"].choices[0].label("ru") == "Ташкент"
