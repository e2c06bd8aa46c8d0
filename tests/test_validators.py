"""PINFL, phone and passport validators, and their explanations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from kiosk.validators import (
    explain,
    format_phone,
    is_valid_passport,
    is_valid_phone,
    is_valid_pinfl,
    make_pinfl,
    normalize_passport,
    normalize_phone,
    pinfl_birth_date,
    pinfl_check_digit,
    pinfl_problem,
    pinfl_sex,
)

# A PINFL worked by hand: 3 140385 123 045 -> weights 7,3,1,... give 215, check digit 5.
KNOWN = "31403851230455"


def with_check(first13: str) -> str:
    return first13 + str(pinfl_check_digit(first13))


def bump_last(p: str) -> str:
    return p[:-1] + str((int(p[-1]) + 1) % 10)


# --- PINFL ---------------------------------------------------------------------------


def test_known_pinfl_checksum_by_hand() -> None:
    weights = [7, 3, 1] * 4 + [7]
    assert sum(int(d) * w for d, w in zip(KNOWN[:13], weights, strict=True)) % 10 == 5
    assert pinfl_check_digit(KNOWN[:13]) == 5
    assert is_valid_pinfl(KNOWN)
    assert pinfl_birth_date(KNOWN) == date(1985, 3, 14)
    assert pinfl_sex(KNOWN) == "m"


@pytest.mark.parametrize(
    ("birth", "sex", "first"),
    [
        (date(1885, 12, 31), "m", "1"),
        (date(1899, 1, 1), "f", "2"),
        (date(1950, 7, 20), "m", "3"),
        (date(1999, 2, 28), "f", "4"),
        (date(2000, 2, 29), "m", "5"),
        (date(2012, 10, 1), "f", "6"),
    ],
)
def test_make_pinfl_round_trips(birth: date, sex: str, first: str) -> None:
    p = make_pinfl(birth, sex, area=26, serial=981)
    assert len(p) == 14 and p.isdigit() and p[0] == first
    assert p[7:10] == "026" and p[10:13] == "981"
    assert is_valid_pinfl(p)
    assert pinfl_birth_date(p) == birth
    assert pinfl_sex(p) == sex
    assert pinfl_problem(p) is None


def test_pinfl_accepts_spaces_dashes_and_full_width_digits() -> None:
    spaced = f"{KNOWN[0]} {KNOWN[1:7]}-{KNOWN[7:10]} {KNOWN[10:]}"
    assert is_valid_pinfl(spaced)
    assert pinfl_birth_date(spaced) == date(1985, 3, 14)
    full_width = KNOWN.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert is_valid_pinfl(full_width)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "length"),
        ("3140385123045", "length"),
        ("314038512304551", "length"),
        ("3140385123045a", "digits"),
        ("31403851230 4O", "digits"),
        ("٣١٤٠٣٨٥١٢٣٠٤٥٥", "digits"),  # Arabic-Indic digits are not PINFL digits
        (with_check("7140385123045"), "century"),
        (with_check("0140385123045"), "century"),
        (with_check("9140385123045"), "century"),
        (with_check("3320285123045"), "date"),  # 32nd of February
        (with_check("3290285123045"), "date"),  # 29 Feb 1985: not a leap year
        (with_check("3141385123045"), "date"),  # month 13
        (with_check("3000085123045"), "date"),  # day 0
        (bump_last(KNOWN), "checksum"),
    ],
)
def test_pinfl_problems(value: str, problem: str) -> None:
    assert pinfl_problem(value) == problem
    assert not is_valid_pinfl(value)
    assert pinfl_birth_date(value) is None
    assert pinfl_sex(value) is None


def test_pinfl_birth_date_in_the_future_is_a_date_problem() -> None:
    tomorrow = date.today() + timedelta(days=1)
    p = make_pinfl(tomorrow, "f", 1, 1)
    assert pinfl_problem(p) == "date"
    assert pinfl_problem(p, today=tomorrow) is None
    assert is_valid_pinfl(p, today=tomorrow + timedelta(days=30))


def test_every_single_digit_error_is_caught_by_the_checksum() -> None:
    # Weights 7, 3, 1 are coprime to 10, so changing any one digit changes the sum.
    for i in range(7, 13):  # area and serial digits: no date or century check interferes
        for d in "0123456789":
            if d != KNOWN[i]:
                assert pinfl_problem(KNOWN[:i] + d + KNOWN[i + 1 :]) == "checksum"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((date(1990, 1, 1), "x", 1, 1), "sex"),
        ((date(1990, 1, 1), "m", 1000, 1), "area"),
        ((date(1990, 1, 1), "m", 1, -1), "serial"),
        ((date(2100, 1, 1), "m", 1, 1), "1800-2099"),
    ],
)
def test_make_pinfl_refuses_bad_arguments(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_pinfl(*args)


# --- phone ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "90 123 45 67",
        "+998 90 123-45-67",
        "998901234567",
        "+998901234567",
        "901234567",
        "(90) 123-45-67",
        "+998 (71) 123 45 67",  # Tashkent landline
        "+998 33 123 45 67",
        "+998 88 123 45 67",
        "＋９９８ ９０ １２３ ４５ ６７",  # full-width
    ],
)
def test_valid_phones(value: str) -> None:
    assert is_valid_phone(value)
    assert normalize_phone(value) in (
        "+998901234567",
        "+998711234567",
        "+998331234567",
        "+998881234567",
    )
    assert format_phone(value).startswith("+998 ")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "123",
        "+998 90 123 45",
        "+998 90 123 45 678",
        "+7 912 345 67 89",  # a valid Russian number, but not Uzbek
        "+1 202 555 0143",
        "abc",
        "0901234567",
        "x" * 500,
    ],
)
def test_invalid_phones(value: str) -> None:
    assert not is_valid_phone(value)
    assert normalize_phone(value) is None


def test_format_phone() -> None:
    assert format_phone("901234567") == "+998 90 123 45 67"
    assert format_phone("+998-71-123-45-67") == "+998 71 123 45 67"
    assert format_phone("  12 ") == "12"


# --- passport ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normal"),
    [
        ("AA1234567", "AA1234567"),
        ("aa1234567", "AA1234567"),
        ("AB 123 45 67", "AB1234567"),
        ("AD-1234567", "AD1234567"),
        ("  fa1234567 ", "FA1234567"),
        ("АА1234567", "AA1234567"),  # Cyrillic А typed by mistake
        ("ВС1234567", "BC1234567"),
        ("ас1234567", "AC1234567"),
        ("КА１２３４５６７", "KA1234567"),
    ],
)
def test_valid_passports(value: str, normal: str) -> None:
    assert normalize_passport(value) == normal
    assert is_valid_passport(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "A1234567",
        "AAA1234567",
        "AA123456",
        "AA12345678",
        "121234567",
        "ЖЖ1234567",
        "AA12345б7",
        "Ä",
    ],
)
def test_invalid_passports(value: str) -> None:
    assert normalize_passport(value) is None
    assert not is_valid_passport(value)


# --- explanations --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("12345", "14 digits; you entered 5"),
        ("1234567890123x", "digits only"),
        (with_check("7140385123045"), "first digit"),
        (with_check("3320285123045"), "date of birth"),
        (bump_last(KNOWN), "last digit of the PINFL does not match"),
    ],
)
def test_explain_pinfl(value: str, fragment: str) -> None:
    message = explain("pinfl", value, "en")
    assert message is not None and fragment in message


def test_explain_valid_values_is_none() -> None:
    assert explain("pinfl", KNOWN, "en") is None
    assert explain("phone", "+998 90 123 45 67", "en") is None
    assert explain("passport", "AA1234567", "en") is None
    assert explain("unknown-kind", "x", "en") is None


def test_explain_phone_and_passport() -> None:
    assert "+998" in (explain("phone", "+7 912 345 67 89", "en") or "")
    assert "Uzbek" in (explain("phone", "+7 912 345 67 89", "en") or "")
    assert "+998 90 123 45 67" in (explain("phone", "12", "en") or "")
    assert "AA1234567" in (explain("passport", "12", "en") or "")


@pytest.mark.parametrize("lang", ["uz_Latn", "uz_Cyrl", "ru", "en"])
def test_explain_in_every_language(lang: str) -> None:
    for kind, bad in (("pinfl", "1"), ("phone", "1"), ("passport", "1")):
        message = explain(kind, bad, lang)
        assert isinstance(message, str) and message


@pytest.mark.parametrize("value", [None, 123, b"AA1234567", ["x"]])
def test_non_text_never_raises(value: object) -> None:
    assert not is_valid_pinfl(value)  # type: ignore[arg-type]
    assert not is_valid_phone(value)  # type: ignore[arg-type]
    assert not is_valid_passport(value)  # type: ignore[arg-type]
    assert explain("pinfl", value, "en")  # type: ignore[arg-type]
