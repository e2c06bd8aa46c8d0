"""Outside forms (issue 17): the kiosk's own rules warn instead of refusing, languages
fall back to the closest one a form has, and `kiosk catalog check` reads forms as
pyxform does and says every line in the chosen language."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import openpyxl
import pytest

from kiosk.catalog import load_form_file
from kiosk.form import pick_text
from kiosk.i18n import tr
from kiosk.xlsform_check import check_file
from tests.conftest import KIOSK_ARGV, REPO_ROOT

FORMS = Path(__file__).parent / "forms"

ENGLISH_ONLY = """\
| survey |
| | type | name | label |
| | text | full_name | Your name |
| | begin group | home | Home |
| | integer | rooms | Rooms |
| | end group | | |
| | begin repeat | kids | Children |
| | text | kid | Name |
| | end repeat | | |
"""


def write(tmp_path: Path, text: str, name: str = "survey_one.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_form_without_kiosk_settings_or_uzbek_loads_with_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, ENGLISH_ONLY)
    issues = check_file(path)
    assert issues and all(i.warning for i in issues)  # "begin group" with a space is fine
    form = load_form_file(path)
    assert form.id == "survey_one"  # from the file name
    assert form.category == "other"
    assert form.title("uz_Latn") == "survey_one"
    assert form.version.startswith("h") and len(form.version) == 13  # from the content
    assert load_form_file(path).version == form.version
    write(tmp_path, ENGLISH_ONLY.replace("Your name", "Full name"))
    assert load_form_file(path).version != form.version


def test_listed_marked_and_shown_in_the_closest_language() -> None:
    form = load_form_file(FORMS / "outside_types.md")  # English and Russian
    assert form.list_title("ru") == "Outside types"
    assert form.list_title("uz_Latn") == "Outside types (ru)"
    assert form.list_title("uz_Cyrl") == "Outside types (ru)"
    assert form["code"].label("uz_Latn") == "Отсканируйте код"  # ru before the default
    assert form["code"].label("en") == "Scan the code"


def test_uzbek_scripts_come_from_each_other_then_russian_then_default() -> None:
    texts = {"uz_Latn": "Ism", "ru": "Имя", "default": "Name"}
    assert pick_text(texts, "uz_Cyrl") == "Исм"
    assert pick_text({"uz_Cyrl": "Исм", "ru": "Имя"}, "uz_Latn") == "Ism"
    assert pick_text({"ru": "Имя", "default": "Name"}, "uz_Latn") == "Имя"
    assert pick_text({"default": "Name", "en": "Other"}, "ru") == "Name"


def test_default_language_setting_is_the_last_resort(tmp_path: Path) -> None:
    text = """\
| survey |
| | type | name | label::English (en) | label::French (fr) |
| | text | a | Name | Nom |
| settings |
| | default_language |
| | French (fr) |
"""
    form = load_form_file(write(tmp_path, text))
    assert form["a"].label("ru") == "Nom"
    assert form.list_title("ru").endswith("(fr)")


def test_uzbek_cyrillic_form_is_not_marked_for_latin_readers(tmp_path: Path) -> None:
    text = "| survey |\n| | type | name | label::Uzbek (uz-Cyrl) |\n| | text | a | Исм |\n"
    form = load_form_file(write(tmp_path, text))
    assert form.shown_in("uz_Latn") is None
    assert form["a"].label("uz_Latn") == "Ism"


def test_headers_are_matched_whatever_their_case(tmp_path: Path) -> None:
    text = """\
| survey |
| | TYPE | Name | Label | Relevant |
| | select_one yn | q1 | Good? | |
| | text | q2 | Why? | ${q1} = 'no' |
| choices |
| | List Name | NAME | LABEL |
| | yn | yes | Yes |
| | yn | no | No |
"""
    path = write(tmp_path, text)
    assert [i for i in check_file(path) if not i.warning] == []
    assert load_form_file(path)["q2"].relevant == "${q1} = 'no'"


def test_pyxform_fatal_error_comes_first_and_is_not_hidden(tmp_path: Path) -> None:
    text = """\
| survey |
| | type | name | label |
| | select_one missing | q1 | Pick |
| | geopoint | where | Where |
| choices |
| | list_name | name | label |
| | other | a | A |
"""
    issues = [i for i in check_file(write(tmp_path, text)) if not i.warning]
    assert issues[0].kind == "pyxform"
    assert "missing" in issues[0].message
    assert any(i.kind == "kiosk" for i in issues[1:])


def test_duplicate_column_header_is_named(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label", "label"])
    sheet.append(["text", "a", "A", "A again"])
    path = tmp_path / "dup.xlsx"
    book.save(path)
    [issue] = check_file(path)
    assert issue.text() == "the column label appears twice"
    assert "damaged" not in issue.text()
    assert issue.kind == "pyxform"


def test_unsupported_feature_names_row_and_alternative_in_russian(tmp_path: Path) -> None:
    path = write(tmp_path, ENGLISH_ONLY.replace("| integer | rooms |", "| image | rooms |"))
    [issue] = [i for i in check_file(path, lang="ru") if not i.warning]
    line = issue.text("ru")
    assert line.startswith("survey, " + tr("ru", "row {row}", row=4))
    assert "image" in line
    assert tr("ru", "a photo or a scanned document") in line
    english = "a kiosk has no camera"
    assert english not in line  # the alternative is said in Russian too
    assert all(ord(c) < 128 for c in english)


def run_check(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, KIOSK_DATA_DIR=str(tmp_path / "data"), PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [*KIOSK_ARGV, "catalog", "check", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("lang", ["ru", "uz_Latn", "uz"])
def test_catalog_check_translates_every_line(tmp_path: Path, lang: str) -> None:
    text = ENGLISH_ONLY.replace("| integer | rooms |", "| geopoint | rooms |")
    path = write(tmp_path, text)
    result = run_check(tmp_path, "--lang", lang, str(path))
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines
    english = [
        "row ",
        "column ",
        "warning:",
        "cannot be used at a kiosk",
        "instead:",
        "a kiosk has no GPS",
        "shown in the closest language",
        "is missing",
    ]
    for line in lines:
        assert not any(word in line for word in english), line
    said = "uz_Latn" if lang == "uz" else lang  # `--lang uz` is Uzbek in Latin letters
    assert any(tr(said, "a GPS location") in line for line in lines)
