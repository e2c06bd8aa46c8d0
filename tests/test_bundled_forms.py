"""The bundled catalog of real Uzbek public services: every form checks clean, its sample
is accepted by `kiosk submit`, and realistic wrong answers are refused naming the field.

CLI tests share one warmed data directory (the catalog is parsed once per module).
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kiosk.catalog import BUNDLED_DIR, bundled_form_files, load_form_file, load_sample
from kiosk.engine_json import validate_answers
from kiosk.form import Form
from kiosk.i18n import CITIZEN_LANGS
from tests.conftest import KIOSK_ARGV, REPO_ROOT

FORM_IDS = [p.stem for p in bundled_form_files()]
CATEGORIES = {
    "documents",
    "social",
    "housing",
    "utilities",
    "appeals",
    "participation",
    "education",
}
TODAY = dt.date(2026, 11, 27)
CYRILLIC = re.compile(r"[А-Яа-яЎўҚқҒғҲҳЁё]")
BAD_CHECKSUM_PINFL = "31503622261235"  # the sample's PINFL with the last digit changed
FOREIGN_PHONE = "+7 912 345 67 89"
# Bundled forms that ask for no personal data (docs/appeals.md: an appeal names its
# application by tracking code; the grounds are the citizen's own words).
NO_PERSONAL_DATA = {"decision_appeal"}


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., subprocess.CompletedProcess]:
    """Run the real CLI against one data directory shared by this module's tests."""
    data = tmp_path_factory.mktemp("bundled-data")

    def run(*args: Any, lang: str = "en") -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, KIOSK_DATA_DIR=str(data), KIOSK_LANG=lang)
        env["PYTHONIOENCODING"] = "utf-8"
        return subprocess.run(
            [*KIOSK_ARGV, *map(str, args)],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO_ROOT,
            timeout=120,
        )

    return run


@pytest.fixture(scope="module")
def forms() -> dict[str, Form]:
    return {form_id: load_form_file(BUNDLED_DIR / f"{form_id}.md") for form_id in FORM_IDS}


def _answers_file(tmp_path: Path, answers: dict[str, Any]) -> Path:
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers, ensure_ascii=False), encoding="utf-8")
    return path


# ----- the catalog as a whole -------------------------------------------------------------


def test_catalog_covers_the_services_people_need() -> None:
    required = {
        "criminal_record_certificate",
        "address_registration",
        "birth_certificate_copy",
        "social_assistance",
        "old_age_pension",
        "child_allowance",
        "utility_complaint",
        "mahalla_appeal",
    }
    assert required <= set(FORM_IDS)


def test_catalog_uses_the_xlsform_features_the_kiosk_supports(forms: dict[str, Form]) -> None:
    types = {q.type for f in forms.values() for q in f.walk()}
    assert {"repeat", "select_multiple", "calculate", "date", "decimal", "integer"} <= types
    assert {"note", "acknowledge", "group", "select_one", "text"} <= types
    kinds = {q.kind for f in forms.values() for q in f.walk()}
    assert {"pinfl", "phone", "passport"} <= kinds
    assert any(q.repeat_count for f in forms.values() for q in f.walk())
    assert {f.category for f in forms.values()} == CATEGORIES


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_form_metadata_in_every_citizen_language(forms: dict[str, Form], form_id: str) -> None:
    form = forms[form_id]
    assert form.id == form_id
    assert re.fullmatch(r"20\d{8}", form.version)
    assert form.category in CATEGORIES
    for lang in CITIZEN_LANGS:
        assert form.title(lang) and form.description(lang)
        assert len(form.documents(lang)) >= 1
    assert CYRILLIC.search(form.title("uz_Cyrl"))
    assert CYRILLIC.search(form.title("ru"))
    assert not CYRILLIC.search(form.title("uz_Latn"))
    for q in form.walk():
        if q.is_input:
            assert q.label("ru") != q.name and q.label("uz_Latn") != q.name, q.name


def test_region_and_district_lists_are_complete() -> None:
    with (BUNDLED_DIR / "regions.csv").open(encoding="utf-8") as fh:
        regions = list(csv.DictReader(fh))
    with (BUNDLED_DIR / "districts.csv").open(encoding="utf-8") as fh:
        districts = list(csv.DictReader(fh))
    region_names = {r["name"] for r in regions}
    assert len(regions) == 14  # Karakalpakstan, 12 viloyats, Tashkent city
    assert {"karakalpakstan", "tashkent_city", "tashkent_region", "khorezm"} <= region_names
    names = [d["name"] for d in districts]
    assert len(names) == len(set(names)), "district names must be unique"
    assert {d["region"] for d in districts} == region_names
    for region in region_names:
        assert sum(d["region"] == region for d in districts) >= 10, region
    for row in regions + districts:
        for column in (
            "label::Uzbek (uz)",
            "label::Uzbek Cyrillic (uz-Cyrl)",
            "label::Russian (ru)",
        ):
            assert row[column].strip(), (row["name"], column)
        assert CYRILLIC.search(row["label::Russian (ru)"])
    assert len(districts) >= 200


# ----- every form, through the real CLI ---------------------------------------------------


def test_every_bundled_form_passes_catalog_check(kiosk) -> None:
    files = [BUNDLED_DIR / f"{form_id}.md" for form_id in FORM_IDS]
    result = kiosk("catalog", "check", *files)  # one process for all: parsing is the cost
    assert result.returncode == 0, result.stdout + result.stderr
    for path in files:
        assert f"{path}: no problems found" in result.stdout.splitlines()


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_sample_is_accepted_by_submit(kiosk, form_id: str) -> None:
    path = BUNDLED_DIR / f"{form_id}.sample.json"
    result = kiosk("submit", "--form", form_id, "--answers", path, "--json", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    payload = json.loads(result.stdout)["payload"]
    sample = load_sample(form_id)
    if form_id in NO_PERSONAL_DATA:  # linked by tracking code: asks nothing personal
        assert payload == sample
        return
    assert payload["full_name"] == sample["full_name"]
    assert payload["phone"].startswith("+998")


def test_catalog_sample_prints_the_sample(kiosk, tmp_path: Path) -> None:
    sample = kiosk("catalog", "sample", "social_assistance")
    assert sample.returncode == 0, sample.stderr
    assert json.loads(sample.stdout) == load_sample("social_assistance")


def _set(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda answers: answers.update(changes)


def _drop(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda answers: answers.pop(name)


# (form, change to its sample, the field the error must name, --lang)
CLI_REFUSALS = [
    ("old_age_pension", _set(birth_date="1976-05-01"), "birth_date", "ru"),  # a man of 50
    ("old_age_pension", _set(pinfl=BAD_CHECKSUM_PINFL), "pinfl", "uz_Latn"),
    ("criminal_record_certificate", _set(phone=FOREIGN_PHONE), "phone", "uz_Cyrl"),
    (
        "social_assistance",
        _set(district="chilanzar"),
        "district",
        "ru",
    ),  # Tashkent, not Kashkadarya
    ("mahalla_appeal", _drop("full_name"), "full_name", "uz_Latn"),
    ("child_allowance", _set(household_income=9_000_000), "income_confirm", "ru"),
]


@pytest.mark.parametrize(
    ("form_id", "change", "field", "lang"),
    CLI_REFUSALS,
    ids=[f"{c[0]}-{c[2]}-{c[3]}" for c in CLI_REFUSALS],
)
def test_submit_refuses_invalid_answers(
    kiosk, forms: dict[str, Form], tmp_path: Path, form_id: str, change, field: str, lang: str
) -> None:
    answers = copy.deepcopy(load_sample(form_id))
    change(answers)
    path = _answers_file(tmp_path, answers)
    result = kiosk(
        "submit", "--form", form_id, "--answers", path, "--json", "--dry-run", "--lang", lang
    )
    assert result.returncode == 2, result.stdout + result.stderr
    errors = json.loads(result.stdout)["errors"]
    assert field in {e["field"] for e in errors}
    message = next(e["message"] for e in errors if e["field"] == field)
    _assert_in_language(forms[form_id], field, message, lang)


def _assert_in_language(form: Form, field: str, message: str, lang: str) -> None:
    """The error speaks the requested language: its label or its own constraint message."""
    question = form[field.rsplit("/", 1)[-1]]
    expected = [question.label(lang), question.constraint_message(lang) or ""]
    assert any(text and text in message for text in expected), (message, expected)
    if lang in ("ru", "uz_Cyrl"):
        assert CYRILLIC.search(message), message


# ----- realistic wrong answers per form (same checks as the CLI, in-process) -------------------


def _child(index: int, **changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda answers: answers["children"][index].update(changes)


def _member(index: int, **changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda answers: answers["members"][index].update(changes)


REFUSALS: dict[str, list[tuple[Callable[[dict[str, Any]], None], str]]] = {
    "criminal_record_certificate": [
        (_set(pinfl=BAD_CHECKSUM_PINFL), "pinfl"),
        (_set(passport="A1234567"), "passport"),
        (_set(birth_date="2015-01-01"), "birth_date"),  # a child cannot apply alone
        (_set(copies=9), "copies"),
        (_set(purpose="other"), "purpose_other"),  # "other" needs the purpose written
        (_set(region="khorezm"), "district"),  # Urgut is in Samarkand
    ],
    "address_registration": [
        (_set(owner_pinfl="31101652710540"), "owner_pinfl"),  # bad checksum
        (_set(owner_consent="no"), "owner_consent"),
        (_set(move_date="1990-01-01"), "move_date"),  # before the applicant's birth
        (_set(prev_district="chilanzar"), "prev_district"),  # not in Fergana
        (_set(cadastre="12-34"), "cadastre"),
        (_drop("apartment"), "apartment"),  # required for a flat
    ],
    "birth_certificate_copy": [
        (_set(record_date="2014-01-01"), "record_date"),  # before the birth
        (_set(person_pinfl="12345678901234"), "person_pinfl"),
        (_set(birth_district="urgut"), "birth_district"),  # Samarkand, not Bukhara
        (_drop("mother_name"), "mother_name"),
    ],
    "social_assistance": [
        (_member(0, member_income=5_000_000), "income_confirm"),  # above the threshold
        (_set(circumstances=["none", "disability"]), "circumstances"),
        (_set(card_number="1234567812345678"), "card_number"),
        (
            _member(1, member_pinfl=load_sample("social_assistance")["pinfl"]),
            "members[1]/member_pinfl",
        ),
        (_set(income=-5), "income"),
        (_set(birth_date="2010-01-01"), "birth_date"),
    ],
    "old_age_pension": [
        (_set(birth_date="1976-05-01"), "birth_date"),  # a man of 50
        (_set(sex="female", birth_date="1975-01-01"), "birth_date"),  # a woman of 51
        (_set(service_years=5), "service_years"),
        (_set(service_docs=["none", "workbook"]), "service_docs"),
        (_set(sex="female"), "sex"),  # the PINFL says male
        (_set(card_number="8600"), "card_number"),
        (_set(phone=FOREIGN_PHONE), "phone"),
    ],
    "child_allowance": [
        (_child(0, child_birth_date="2010-01-01"), "children[0]/child_birth_date"),  # 16
        (_child(1, child_pinfl=BAD_CHECKSUM_PINFL), "children[1]/child_pinfl"),
        (_child(0, child_certificate="12"), "children[0]/child_certificate"),
        (_set(household_size=2), "household_size"),  # fewer than children + parent
        (_set(children_count=3), "children"),  # three declared, two given
        (_set(household_income=9_000_000), "income_confirm"),
    ],
    "utility_complaint": [
        (_set(problems=["no_power"]), "problems"),  # an electricity problem for gas
        (_set(account_number="12ab"), "account_number"),
        (_drop("disputed_amount"), "disputed_amount"),  # a wrong bill needs the amount
        (_set(since_date="2030-01-01"), "since_date"),
        (_set(details="short"), "details"),
    ],
    "mahalla_appeal": [
        (_set(text="qisqa"), "text"),
        (_set(signatories=1), "signatories"),
        (_set(response_method="email"), "email"),
        (_set(response_method="email", email="not-an-email"), "email"),
        (_drop("full_name"), "full_name"),  # anonymous appeals are not considered
    ],
    "kindergarten_enrolment": [
        (_set(child_birth_date="2018-01-01"), "child_birth_date"),  # a schoolchild already
        (_set(child_pinfl=load_sample("kindergarten_enrolment")["pinfl"]), "child_pinfl"),
        (_set(priority=["none", "military"]), "priority"),
        (_set(special_needs="yes"), "special_needs_details"),
        (_set(district="chust"), "district"),  # Namangan, not Fergana
    ],
    "open_budget_initiative": [
        (_set(estimated_cost=100), "estimated_cost"),
        (_set(beneficiaries=3), "beneficiaries"),
        (_set(birth_date="2012-01-01"), "birth_date"),
        (_set(district="nukus_city"), "district"),
    ],
}
REFUSALS["decision_appeal"] = [
    (_set(application_code="K7M 4QXP"), "application_code"),  # a space: not a code
    (_set(application_code=""), "application_code"),
    (_set(grounds="Notoʻgʻri."), "grounds"),  # too short to be read as grounds
    (_drop("grounds"), "grounds"),
]
REFUSAL_CASES = [
    (form_id, change, field, lang)
    for form_id, cases in REFUSALS.items()
    for i, (change, field) in enumerate(cases)
    for lang in (CITIZEN_LANGS[i % len(CITIZEN_LANGS)],)
]


def test_every_bundled_form_has_refusal_cases() -> None:
    assert set(REFUSALS) == set(FORM_IDS)
    assert all(len(cases) >= 4 for cases in REFUSALS.values())


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_sample_is_valid_in_every_language(forms: dict[str, Form], form_id: str) -> None:
    for lang in CITIZEN_LANGS:
        _, errors = validate_answers(forms[form_id], load_sample(form_id), lang, today=TODAY)
        assert errors == [], (lang, errors)


@pytest.mark.parametrize(
    ("form_id", "change", "field", "lang"),
    REFUSAL_CASES,
    ids=[f"{c[0]}-{c[2]}-{c[3]}" for c in REFUSAL_CASES],
)
def test_invalid_answers_are_refused_naming_the_field(
    forms: dict[str, Form], form_id: str, change, field: str, lang: str
) -> None:
    answers = copy.deepcopy(load_sample(form_id))
    change(answers)
    _, errors = validate_answers(forms[form_id], answers, lang, today=TODAY)
    assert field in {e.field for e in errors}, [(e.field, e.message) for e in errors]
    message = next(e.message for e in errors if e.field == field)
    if field != "children":  # the repeat-count message names the repeat, not a question
        _assert_in_language(forms[form_id], field, message, lang)


def test_pension_age_differs_for_men_and_women(forms: dict[str, Form]) -> None:
    form = forms["old_age_pension"]
    woman_of_56 = dict(
        load_sample("old_age_pension"),
        sex="female",
        birth_date="1970-06-01",
        pinfl="40106702261230",  # a woman's PINFL: even first digit
    )
    woman_of_56.pop("military")
    woman_of_56.pop("military_years")
    _, errors = validate_answers(form, woman_of_56, "uz_Latn", today=TODAY)
    assert errors == []
    man_of_56 = dict(woman_of_56, sex="male", military="no", pinfl="30106702261233")
    _, errors = validate_answers(form, man_of_56, "uz_Latn", today=TODAY)
    assert [e.field for e in errors] == ["birth_date"]


def test_social_assistance_computes_income_per_person(forms: dict[str, Form]) -> None:
    payload, errors = validate_answers(
        forms["social_assistance"], load_sample("social_assistance"), "ru", today=TODAY
    )
    assert errors == []
    assert payload["household_size"] == 5
    assert payload["total_income"] == 1_800_000
    assert payload["income_per_person"] == 360_000


# ----- catalog commands -----------------------------------------------------------------------


@pytest.mark.parametrize("lang", CITIZEN_LANGS)
def test_catalog_list_in_each_language(kiosk, forms: dict[str, Form], lang: str) -> None:
    result = kiosk("catalog", "list", "--json", "--lang", lang)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert {f["id"] for f in listed} == set(FORM_IDS)
    for item in listed:
        assert item["title"] == forms[item["id"]].title(lang)
        assert item["documents"] == forms[item["id"]].documents(lang)
    categories = [item["category"] for item in listed]
    assert categories == sorted(categories)


def test_catalog_list_as_text(kiosk, forms: dict[str, Form]) -> None:
    text = kiosk("catalog", "list", lang="uz_Cyrl")
    assert text.returncode == 0, text.stderr
    for form_id in FORM_IDS:
        assert form_id in text.stdout
        assert forms[form_id].title("uz_Cyrl") in text.stdout


def test_catalog_show(kiosk) -> None:
    result = kiosk("catalog", "show", "child_allowance", "--json", "--lang", "ru")
    assert result.returncode == 0, result.stderr
    form = json.loads(result.stdout)
    by_name = {q["name"]: q for q in form["questions"]}
    assert by_name["district"]["choice_filter"] == "region = ${region}"
    assert len(by_name["district"]["choices"]) >= 200
    children = by_name["children"]
    assert children["type"] == "repeat" and children["repeat_count"] == "${children_count}"
    birth = next(q for q in children["children"] if q["name"] == "child_birth_date")
    assert "14" in birth["constraint"] and "младше 14" in birth["constraint_message"]
    text = kiosk("catalog", "show", "old_age_pension", "--lang", "uz_Latn")
    assert text.returncode == 0
    assert "birth_date (date)" in text.stdout and "pinfl (text [pinfl])" in text.stdout
    missing = kiosk("catalog", "show", "no_such_form")
    assert missing.returncode == 2 and "no_such_form" in missing.stderr


def test_catalog_sample_unknown(kiosk) -> None:
    result = kiosk("catalog", "sample", "no_such_form")
    assert result.returncode == 2
    assert "no_such_form" in result.stderr and "Traceback" not in result.stderr


def test_catalog_check_reports_problems_with_sheet_row_column(kiosk, tmp_path: Path) -> None:
    source = (BUNDLED_DIR / "old_age_pension.md").read_text(encoding="utf-8")
    broken = tmp_path / "old_age_pension.md"
    broken.write_text(source.replace("${sex} = 'male'", "${gender} = 'male'"), encoding="utf-8")
    for name in ("regions.csv", "districts.csv"):
        (tmp_path / name).write_bytes((BUNDLED_DIR / name).read_bytes())
    result = kiosk("catalog", "check", broken)
    assert result.returncode == 2
    assert "survey" in result.stdout and "row" in result.stdout and "gender" in result.stdout
    junk = tmp_path / "junk.md"
    junk.write_bytes(b"\x00\xff\x00 not a form")
    result = kiosk("catalog", "check", junk)
    assert result.returncode == 2 and "Traceback" not in result.stdout + result.stderr
    # With several files, one bad file fails the run and the good one is still reported.
    good = BUNDLED_DIR / "mahalla_appeal.md"
    result = kiosk("catalog", "check", good, junk)
    assert result.returncode == 2
    assert f"{good}: no problems found" in result.stdout and f"{junk}:" in result.stdout
