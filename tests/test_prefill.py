"""The `prefill` XLSForm column and the payload's prefill section (kiosk/prefill.py):
unknown names refused with their row and the closest known field, wrong types and
repeats refused, the bundled forms that prefill, and the section's checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk import prefill
from kiosk.catalog import CatalogError, bundled_form_files, load_form_file
from kiosk.form import Form, FormError
from kiosk.xlsform_check import check_file

FORM = """| survey |
| | type | name | label::Uzbek (uz) | label::Russian (ru) | prefill |
| | text | full_name | Ism | Имя | {name} |
| | date | born | Sana | Дата | person.birth_date |
| settings |
| | form_id | version | form_title::Uzbek (uz) | form_title::Russian (ru) | category |
| | pf | 1 | Sinov | Тест | social |
"""


def _write(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "pf.md"
    path.write_text(FORM.format(name=name), encoding="utf-8")
    return path


def test_a_known_field_loads(tmp_path: Path) -> None:
    form = load_form_file(_write(tmp_path, "person.full_name"))
    assert prefill.form_fields(form.walk()) == {
        "full_name": "person.full_name",
        "born": "person.birth_date",
    }
    assert check_file(_write(tmp_path, "person.full_name")) == []


def test_an_unknown_field_is_refused_with_its_row_and_the_closest_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "person.fullname")
    with pytest.raises(CatalogError) as caught:
        load_form_file(path)
    message = caught.value.message("en")
    assert "row 2" in message and "column prefill" in message
    assert "person.fullname" in message and "did you mean 'person.full_name'" in message
    [issue] = check_file(path)
    assert (issue.sheet, issue.row, issue.column) == ("survey", 2, "prefill")
    assert "person.full_name" in issue.message
    ru = check_file(path, lang="ru")[0].message
    assert "неизвестное поле реестра" in ru


def test_a_name_nothing_is_close_to_lists_the_known_fields(tmp_path: Path) -> None:
    [issue] = check_file(_write(tmp_path, "tax.number"))
    assert "person.family" in issue.message and "did you mean" not in issue.message


def test_wrong_types_repeats_and_the_reserved_name_are_refused() -> None:
    def spec(*children: dict[str, object]) -> dict[str, object]:
        return {"type": "survey", "name": "data", "id_string": "x", "version": "1",
                "children": list(children)}  # fmt: skip

    with pytest.raises(FormError, match="cannot fill a question of type integer"):
        Form.from_pyxform(spec({"type": "integer", "name": "n", "prefill": "person.phone"}))
    repeat = {
        "type": "repeat",
        "name": "kids",
        "children": [{"type": "text", "name": "k", "prefill": "person.full_name"}],
    }
    with pytest.raises(FormError, match="inside a repeat"):
        Form.from_pyxform(spec(repeat))
    with pytest.raises(FormError, match="reserved"):
        Form.from_pyxform(
            spec(
                {"type": "text", "name": "a", "prefill": "person.full_name"},
                {"type": "text", "name": "prefill"},
            )
        )
    with pytest.raises(FormError, match="already fills"):
        Form.from_pyxform(
            spec(
                {"type": "text", "name": "a", "prefill": "person.full_name"},
                {"type": "text", "name": "b", "prefill": "person.full_name"},
            )
        )


def test_bundled_forms_that_prefill() -> None:
    prefilling = {}
    for path in bundled_form_files():
        form = load_form_file(path)
        if fields := prefill.form_fields(form.walk()):
            prefilling[form.id] = fields
    assert set(prefilling) >= {"old_age_pension", "child_allowance"}
    assert prefilling["old_age_pension"]["full_name"] == "person.full_name"
    assert prefilling["child_allowance"]["birth_date"] == "person.birth_date"


def test_the_section_keeps_the_registry_value_beside_the_answer() -> None:
    payload: dict[str, object] = {"full_name": "Karimova Lola", "born": "1990-01-02"}
    section = prefill.section(
        "id-1",
        {
            "full_name": ("person.full_name", "Karimova Lolа", "Karimova Lolа"),
            "born": ("person.birth_date", "1990-01-02", "1990-01-02"),
        },
        payload,
    )
    assert section["fields"]["full_name"]["corrected"] is True
    assert section["fields"]["born"]["corrected"] is False
    answers, found = prefill.split({**payload, prefill.PAYLOAD_KEY: section})
    assert answers == payload
    assert (
        prefill.section_problem(
            found, {"full_name": "person.full_name", "born": "person.birth_date"}
        )
        is None
    )
    assert prefill.section_problem(found, {"born": "person.birth_date"}) is not None
    assert prefill.section_problem({"lookup_id": 5}, {}) == "prefill: lookup_id"
    assert prefill.lookup_id_of({prefill.PAYLOAD_KEY: section}) == "id-1"
    assert prefill.lookup_id_of(payload) is None


def test_a_family_is_said_as_one_line() -> None:
    family = [
        {"relation": "child", "full_name": "Karimov Temur", "birth_date": "2012-06-07"},
        {"relation": "spouse", "full_name": "Karimova Lola", "birth_date": "1985-01-01"},
    ]
    assert prefill.as_answer("person.family", family) == (
        "Karimov Temur (child, 2012-06-07); Karimova Lola (spouse, 1985-01-01)"
    )
    assert prefill.as_answer("person.phone", "+998901234567") == "+998901234567"
