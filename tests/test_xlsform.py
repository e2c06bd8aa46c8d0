"""Loading XLSForm files through pyxform and checking them for authors."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from pyxform.xls2json_backends import md_to_dict

from kiosk.form import Form
from kiosk.xlsform_check import XlsformIssue, check_file
from kiosk.xlsform_load import XlsformError, load_form, load_spec

FORMS = Path(__file__).parent / "forms"

GOOD = """\
| survey |
| | type | name | label::Uzbek (uz) | label::Russian (ru) | relevant | constraint |
| | text | full_name | Ism | Имя | | |
| | integer | age | Yosh | Возраст | | . > 0 |
| | text | pinfl | JShShIR | ПИНФЛ | ${age} > 16 | pinfl(.) |
| settings |
| | form_id | version | form_title::Uzbek (uz) | form_title::Russian (ru) | category |
| | good | 1 | Yaxshi | Хорошо | social |
"""


def write(tmp_path: Path, text: str, name: str = "form.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def as_strings(issues: list[XlsformIssue]) -> list[str]:
    return [str(i) for i in issues]


@pytest.mark.parametrize("name", ["basic.md", "logic.md", "repeats.md", "kinds.md", "computed.md"])
def test_fixtures_are_clean(name: str) -> None:
    assert check_file(FORMS / name) == []


def test_good_form_is_clean(tmp_path: Path) -> None:
    assert check_file(write(tmp_path, GOOD)) == []


def test_issue_str_names_sheet_row_column() -> None:
    issue = XlsformIssue("survey", 7, "constraint", "unknown function pinfl2()")
    assert str(issue) == "survey, row 7, column constraint: unknown function pinfl2()"
    assert str(XlsformIssue("settings", None, None, "no settings")) == "settings: no settings"


def test_bad_expression_names_row_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("pinfl(.)", "pinfl2(.)"))
    issues = check_file(path)
    assert [(i.sheet, i.row, i.column) for i in issues] == [("survey", 4, "constraint")]
    assert "pinfl2" in issues[0].message


def test_syntax_error_in_relevant(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("${age} > 16", "${age} >"))
    issues = check_file(path)
    assert [(i.sheet, i.row, i.column) for i in issues][:1] == [("survey", 4, "relevant")]


def test_unknown_field_reference(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("${age} > 16", "${agee} > 16"))
    assert as_strings(check_file(path)) == [
        "survey, row 4, column relevant: unknown field '${agee}'"
    ]


def test_unknown_type(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("| integer | age |", "| geopoint | age |"))
    issues = check_file(path)
    assert ("survey", 3, "type") in [(i.sheet, i.row, i.column) for i in issues]
    refusal = next(i for i in issues if i.kind == "kiosk")
    assert not refusal.warning
    # The feature, the row and what to use instead.
    assert refusal.text() == (
        "survey, row 3, column type: 'geopoint' (a GPS location) cannot be used at a kiosk;"
        " instead: a kiosk has no GPS: ask for the address (select_one region and district,"
        " text street)"
    )


def test_missing_russian_label(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("| Yosh | Возраст |", "| Yosh | |"))
    # A missing translation stops nothing: a warning, shown in the closest language.
    assert as_strings(check_file(path)) == [
        "warning: survey, row 3, column label::Russian (ru): no label in Russian"
    ]


def test_cyrillic_uzbek_label_counts_as_uzbek(tmp_path: Path) -> None:
    text = GOOD.replace("label::Uzbek (uz)", "label::Uzbek (uz-Cyrl)")
    assert check_file(write(tmp_path, text)) == []


def test_missing_settings(tmp_path: Path) -> None:
    text = GOOD.replace("| category |", "| description |").replace(
        "| Хорошо | social |", "| | social |"
    )
    assert as_strings(check_file(write(tmp_path, text))) == [
        "warning: settings, row 2, column category: category is missing:"
        " the form is listed under other services",
        "warning: settings, row 2, column form_title::Russian (ru): no form title in Russian",
    ]


def test_no_settings_sheet(tmp_path: Path) -> None:
    text = GOOD.split("| settings |")[0]
    issues = check_file(write(tmp_path, text))
    assert [(i.sheet, i.row, i.warning) for i in issues] == [("settings", None, True)]


def test_choice_filter_column_must_exist(tmp_path: Path) -> None:
    text = (
        (FORMS / "logic.md")
        .read_text(encoding="utf-8")
        .replace("region=${region}", "regio=${region}", 1)
    )
    path = write(tmp_path, text)
    shutil.copy(FORMS / "cities.csv", tmp_path)
    issues = check_file(path)
    assert [(i.sheet, i.column) for i in issues] == [("survey", "choice_filter")]
    assert "regio" in issues[0].message


def test_choice_filter_over_a_choice_file_checks_its_columns(tmp_path: Path) -> None:
    shutil.copy(FORMS / "cities.csv", tmp_path)
    text = (FORMS / "logic.md").read_text(encoding="utf-8")
    assert check_file(write(tmp_path, text)) == []
    bad = text.replace("| Город | | | | region=", "| Город | | | | district=")
    issues = check_file(write(tmp_path, bad))
    assert [(i.row, i.column) for i in issues] == [(12, "choice_filter")]
    assert "district" in issues[0].message


def test_missing_choice_file(tmp_path: Path) -> None:
    path = write(tmp_path, (FORMS / "logic.md").read_text(encoding="utf-8"))
    issues = check_file(path)
    assert any(i.column == "type" and "cities.csv" in i.message for i in issues)
    with pytest.raises(XlsformError, match="cities.csv"):
        load_spec(path)


def test_pyxform_structure_error_keeps_its_row(tmp_path: Path) -> None:
    text = GOOD.replace(
        "| | text | pinfl |", "| | begin_group | grp | Guruh | Группа | | |\n| | text | pinfl |"
    )
    issues = check_file(write(tmp_path, text))
    assert len(issues) == 1
    assert issues[0].sheet == "survey" and issues[0].row == 4
    assert "end_group" in issues[0].message


def test_corrupt_xlsx_is_one_clear_issue(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip file")
    issues = check_file(path)
    assert as_strings(issues) == ["the file is damaged or is not an XLSForm"]
    with pytest.raises(XlsformError):
        load_spec(path)


@pytest.mark.parametrize(
    ("name", "content"),
    [("notes.md", "just some notes\n"), ("empty.md", ""), ("form.txt", "| survey |\n")],
)
def test_not_an_xlsform(tmp_path: Path, name: str, content: str) -> None:
    issues = check_file(write(tmp_path, content, name))
    assert len(issues) == 1 and "XLSForm" in issues[0].message
    assert issues[0].sheet == "" and issues[0].row is None


def test_missing_file(tmp_path: Path) -> None:
    assert "no such file" in str(check_file(tmp_path / "gone.md")[0])


def test_choice_file_is_inlined() -> None:
    spec = load_spec(FORMS / "logic.md")
    assert [c["name"] for c in spec["choices"]["cities"]] == ["tashkent", "samarkand"]
    assert spec["choices"]["cities"][0]["label"] == {
        "Uzbek (uz)": "Toshkent",
        "Russian (ru)": "Ташкент",
    }
    form = Form.from_pyxform(spec)
    city = form["city"]
    assert [c.label("ru") for c in city.choices] == ["Ташкент", "Самарканд"]
    assert city.choices[1].extra == {"region": "sam"}


def test_custom_settings_columns_pass_through() -> None:
    spec = load_spec(FORMS / "basic.md")
    assert spec["category"] == "social"
    assert spec["documents"]["Russian (ru)"] == "Паспорт; Фото"


def md_to_xlsx(md: Path, xlsx: Path) -> None:
    """The same rows as an Excel workbook, as a form author would save them."""
    sheets = md_to_dict(md.read_text(encoding="utf-8"))
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in sheets["sheet_names"]:
        header = list(sheets[f"{name}_header"][0])
        ws = book.create_sheet(name)
        ws.append(header)
        for row in sheets[name]:
            ws.append([row.get(col) for col in header])
    book.save(xlsx)


@pytest.mark.parametrize("name", ["basic.md", "logic.md", "repeats.md"])
def test_xlsx_loads_the_same_as_md(tmp_path: Path, name: str) -> None:
    shutil.copy(FORMS / "cities.csv", tmp_path)
    xlsx = tmp_path / name.replace(".md", ".xlsx")
    md_to_xlsx(FORMS / name, xlsx)
    from_md, from_xlsx = load_spec(FORMS / name), load_spec(xlsx)
    assert from_xlsx == from_md
    assert check_file(xlsx) == []
    assert [q.name for q in load_form(xlsx).walk()] == [
        q.name for q in load_form(FORMS / name).walk()
    ]


def test_odk_validate_on_request(tmp_path: Path) -> None:
    if shutil.which("java") is None:
        pytest.skip("ODK Validate needs Java")
    assert check_file(write(tmp_path, GOOD), odk_validate=True) == []


def test_csv_xlsform(tmp_path: Path) -> None:
    text = (
        "survey,,,,,\n"
        ",type,name,label::Uzbek (uz),label::Russian (ru),constraint\n"
        ",text,full_name,Ism,Имя,\n"
        ",integer,age,Yosh,Возраст,${agee} > 0\n"
        "settings,,,,,\n"
        ",form_id,version,form_title::Uzbek (uz),form_title::Russian (ru),category\n"
        ",csv_form,1,Sinov,Тест,social\n"
    )
    path = write(tmp_path, text, "form.csv")
    assert as_strings(check_file(path)) == [
        "survey, row 3, column constraint: unknown field '${agee}'"
    ]
    path = write(tmp_path, text.replace("${agee} > 0", ". > 0"), "form.csv")
    assert check_file(path) == []
    form = load_form(path)
    assert (form.id, form.title("ru"), [q.name for q in form.walk()]) == (
        "csv_form",
        "Тест",
        ["full_name", "age"],
    )


def test_messages_follow_lang_but_locations_do_not(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("| Yosh | Возраст |", "| Yosh | |"))
    en, ru = check_file(path), check_file(path, lang="ru")
    assert [(i.sheet, i.row, i.column) for i in ru] == [(i.sheet, i.row, i.column) for i in en]
    assert all(i.message for i in ru)


def test_circular_calculations(tmp_path: Path) -> None:
    text = GOOD.replace(
        "| | text | pinfl |",
        "| | calculate | a | | | | |\n| | calculate | b | | | | |\n| | text | pinfl |",
    ).replace("| relevant | constraint |", "| relevant | constraint | calculation |")
    text = text.replace("| calculate | a | | | | |", "| calculate | a | | | | | ${b} + 1 |")
    text = text.replace("| calculate | b | | | | |", "| calculate | b | | | | | ${a} * 2 |")
    issues = check_file(write(tmp_path, text))
    assert as_strings(issues) == [
        "survey, row 4, column calculation: the calculation depends on itself: ${a} -> ${b} -> ${a}"
    ]
