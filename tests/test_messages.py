"""Issue 14, finding 3, below the screen: the engine's messages for dates, birth dates
against the PINFL (also at review, after the PINFL is edited), card numbers and Cyrillic
passport series; and sizes said in each language (finding 4)."""

from __future__ import annotations

import datetime as dt

from kiosk.catalog import bundled_form_files, load_sample
from kiosk.engine import FormSession
from kiosk.engine_json import validate_answers
from kiosk.engine_values import date_problem
from kiosk.formatting import date_pattern, format_size
from kiosk.validators import make_pinfl, normalize_passport
from kiosk.xlsform_load import load_form

TODAY = dt.date(2026, 11, 26)


def form(form_id: str):
    path = next(p for p in bundled_form_files() if p.stem == form_id)
    return load_form(path)


def test_date_problems() -> None:
    assert date_problem("31.02.1991") == ("day", {"date": "31.02.1991", "days": 28})
    assert date_problem("29.02.2024") == ("format", {})  # a leap day exists: not this
    assert date_problem("1991-04-31") == ("day", {"date": "31.04.1991", "days": 30})
    assert date_problem("12.13.1991") == ("month", {"month": 13})
    assert date_problem("1991") == ("format", {})


def test_date_pattern_per_language() -> None:
    assert [date_pattern(lang) for lang in ("uz_Latn", "uz_Cyrl", "ru", "kaa")] == [
        "KK.OO.YYYY",
        "КК.ОО.ЙЙЙЙ",
        "ДД.ММ.ГГГГ",
        "KK.AA.JJJJ",
    ]


def test_sizes_are_said_in_each_language() -> None:
    for lang in ("uz_Latn", "uz_Cyrl", "ru", "kaa"):
        assert "byte" not in format_size(0, lang)
    assert format_size(0, "uz_Cyrl") == "0 байт"
    assert format_size(1536, "ru") == "1,5 кБ"


def test_cyrillic_series_is_read_in_latin() -> None:
    assert normalize_passport("АД4455667") == "AD4455667"
    assert normalize_passport("ад 445 56 67") == "AD4455667"
    assert normalize_passport("ЖЖ4455667") is None


def test_birth_date_is_checked_against_the_pinfl_also_at_review() -> None:
    f = form("criminal_record_certificate")
    sample = load_sample("criminal_record_certificate")
    payload, errors = validate_answers(f, sample, "ru", today=TODAY)
    assert errors == []  # the bundled sample is consistent
    session = FormSession(f, lang="ru", today=TODAY)
    for name, value in sample.items():
        session.set(name, value)
    assert session.validate_all() == []
    # The PINFL edited from the review: the birth date no longer matches it.
    other = make_pinfl(dt.date(1985, 1, 2), "m", 262, 41)
    session.set("pinfl", other)
    problems = [e for e in session.validate_all() if e.field == "birth_date"]
    assert problems and "02.01.1985" in problems[0].message and "ПИНФЛ" in problems[0].message
    # A future date says so, before any rule of age.
    errors = session.set("birth_date", "01.01.2030")
    assert errors[0].code == "birth_date" and "будущ" in errors[0].message


def test_every_bundled_sample_stays_valid() -> None:
    for path in bundled_form_files():
        sample = load_sample(path.stem)
        _, errors = validate_answers(load_form(path), sample, "uz_Latn", today=TODAY)
        assert errors == [], (path.stem, errors)


def test_card_number_with_spaces_and_dashes() -> None:
    f = form("old_age_pension")
    payload, errors = validate_answers(
        f,
        {**load_sample("old_age_pension"), "card_number": "8600-1234 5678 9012"},
        "ru",
        today=TODAY,
    )
    assert payload["card_number"] == "8600123456789012"
    assert not [e for e in errors if e.field == "card_number"]
