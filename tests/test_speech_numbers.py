"""Numbers, dates and amounts as words in Uzbek (Latin, Cyrillic) and Russian."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.speech import numbers


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "nol"),
        (7, "yetti"),
        (10, "o'n"),
        (11, "o'n bir"),
        (40, "qirq"),
        (99, "to'qson to'qqiz"),
        (100, "yuz"),
        (105, "yuz besh"),
        (250, "ikki yuz ellik"),
        (1000, "bir ming"),
        (2024, "ikki ming yigirma to'rt"),
        (150_000, "yuz ellik ming"),
        (1_500_000, "bir million besh yuz ming"),
        (3_000_000_000, "uch milliard"),
    ],
)
def test_uzbek_cardinals(n: int, words: str) -> None:
    assert numbers.cardinal(n, "uz_Latn") == words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "birinchi"),
        (2, "ikkinchi"),
        (5, "beshinchi"),
        (6, "oltinchi"),
        (20, "yigirmanchi"),
        (10, "o'ninchi"),
        (2024, "ikki ming yigirma to'rtinchi"),
    ],
)
def test_uzbek_ordinals_take_nchi_after_a_vowel_and_inchi_after_a_consonant(
    n: int, words: str
) -> None:
    assert numbers.ordinal(n, "uz_Latn") == words


def test_uzbek_cyrillic_words_are_the_latin_ones_transliterated() -> None:
    assert numbers.cardinal(1_500_000, "uz_Cyrl") == "бир миллион беш юз минг"
    assert numbers.amount(4, "uz_Cyrl") == "тўрт сўм"


def test_amounts_in_uzbek() -> None:
    assert numbers.amount(1_500_000, "uz_Latn") == "bir million besh yuz ming so'm"
    assert numbers.amount(Decimal("12.50"), "uz_Latn") == "o'n ikki so'm ellik tiyin"


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "один сум"),
        (2, "два сума"),
        (4, "четыре сума"),
        (5, "пять сумов"),
        (11, "одиннадцать сумов"),
        (12, "двенадцать сумов"),
        (21, "двадцать один сум"),
        (22, "двадцать два сума"),
        (111, "сто одиннадцать сумов"),
        (1_500_000, "один миллион пятьсот тысяч сумов"),
    ],
)
def test_amounts_in_russian_decline_sum(n: int, words: str) -> None:
    assert numbers.amount(n, "ru") == words


def test_russian_tiyin_decline_too() -> None:
    assert numbers.amount("3,02", "ru") == "три сума два тийина"


def test_dates_in_each_language() -> None:
    day = dt.date(2024, 3, 5)
    assert numbers.date_words(day, "uz_Latn") == "ikki ming yigirma to'rtinchi yil beshinchi mart"
    assert numbers.date_words(day, "ru") == "пятое марта две тысячи двадцать четвёртого года"
    assert numbers.date_words(day, "uz_Cyrl").endswith("бешинчи март")


def test_russian_year_cases() -> None:
    assert numbers.year(2024, "ru", case="n") == "две тысячи двадцать четвёртый год"
    assert numbers.year(2024, "ru", case="p") == "две тысячи двадцать четвёртом году"


def test_decimals() -> None:
    assert numbers.decimal("3,5", "uz_Latn") == "uch butun o'ndan besh"
    assert numbers.decimal("0.25", "uz_Latn") == "nol butun yuzdan yigirma besh"
    assert numbers.decimal("3,5", "ru") == "три целых пять десятых"


def test_digits_one_by_one() -> None:
    assert numbers.digits("907", "uz_Latn") == "to'qqiz, nol, yetti"
    assert numbers.digits("907", "ru") == "девять, ноль, семь"


def test_a_language_without_number_words_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="no number words"):
        numbers.cardinal(5, "en")


@given(st.integers(min_value=0, max_value=10**15 - 1))
def test_every_uzbek_number_has_words_and_no_digits(n: int) -> None:
    words = numbers.cardinal(n, "uz_Latn")
    assert words and not any(ch.isdigit() for ch in words)
    # Each scale word appears at most once: the groups are read in order.
    for scale in ("trillion", "milliard", "million", "ming"):
        assert words.split().count(scale) <= 1
