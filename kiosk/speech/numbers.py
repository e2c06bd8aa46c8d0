"""Numbers, ordinals, dates and amounts as words, for the ear.

Russian goes through num2words (cases, genders and ordinals done right); num2words
0.5.14 has no Uzbek, so Uzbek is written here: its numerals are regular (the words
of each group, then the scale word) and ordinals only add -(i)nchi. Uzbek Cyrillic
words are the Latin ones through kiosk.translit, so there is one table.

Latin Uzbek output uses the ASCII apostrophe (to'rt): espeak-ng's Uzbek voice reads
it as the letter oʻ, whereas U+02BC makes it spell the word letter by letter.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import cache

from kiosk.translit import to_cyrillic

UZ_ONES = ("nol", "bir", "ikki", "uch", "to'rt", "besh", "olti", "yetti", "sakkiz", "to'qqiz")
UZ_TENS = (
    "",
    "o'n",
    "yigirma",
    "o'ttiz",
    "qirq",
    "ellik",
    "oltmish",
    "yetmish",
    "sakson",
    "to'qson",
)
UZ_SCALES = ((10**12, "trillion"), (10**9, "milliard"), (10**6, "million"), (10**3, "ming"))
UZ_MONTHS = (
    "yanvar",
    "fevral",
    "mart",
    "aprel",
    "may",
    "iyun",
    "iyul",
    "avgust",
    "sentabr",
    "oktabr",
    "noyabr",
    "dekabr",
)
RU_MONTHS_GENITIVE = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
# Russian noun forms for 1, 2-4 and 5+ (один сум, два сума, пять сумов).
RU_SUM = ("сум", "сума", "сумов")
RU_TIYIN = ("тийин", "тийина", "тийинов")

LANGS = ("uz_Latn", "uz_Cyrl", "ru")
MAX_WORDS_NUMBER = 10**15  # beyond this a number is read digit by digit


def _check(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"no number words for language {lang!r}")
    return lang


@cache
def _ru():  # -> num2words.lang_RU.Num2Word_RU
    from num2words import CONVERTER_CLASSES

    return CONVERTER_CLASSES["ru"]


def _uz_below_1000(n: int) -> list[str]:
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    words: list[str] = []
    if hundreds:
        # "yuz" alone for one hundred, as it is said ("yuz ellik ming").
        words += ["yuz"] if hundreds == 1 else [UZ_ONES[hundreds], "yuz"]
    if tens:
        words.append(UZ_TENS[tens])
    if ones:
        words.append(UZ_ONES[ones])
    return words


def _uz_cardinal(n: int) -> str:
    if n == 0:
        return UZ_ONES[0]
    words: list[str] = []
    for scale, name in UZ_SCALES:
        count, n = divmod(n, scale)
        if count:
            words += [*_uz_below_1000(count), name]
    words += _uz_below_1000(n)
    return " ".join(words)


def _uz_ordinal(n: int) -> str:
    words = _uz_cardinal(n)
    return words + ("nchi" if words[-1] in "aeiou" else "inchi")


def ru_plural(n: int, forms: tuple[str, str, str]) -> str:
    """The Russian noun form for ``n``: forms for 1, 2-4 and 5+ (сум, сума, сумов)."""
    return _ru().pluralize(n, forms)


def _script(text: str, lang: str) -> str:
    return to_cyrillic(text) if lang == "uz_Cyrl" else text


def cardinal(n: int, lang: str) -> str:
    """``1500000`` -> "bir million besh yuz ming" / "один миллион пятьсот тысяч"."""
    _check(lang)
    if n < 0:
        return ("минус " if lang == "ru" else _script("minus ", lang)) + cardinal(-n, lang)
    if lang == "ru":
        return _ru().to_cardinal(n)
    return _script(_uz_cardinal(n), lang)


def ordinal(n: int, lang: str, *, case: str = "n", gender: str = "m") -> str:
    """``5`` -> "beshinchi" / "пятый"; ``case`` and ``gender`` matter only in Russian.

    Russian case is one of n g d a i p (num2words' letters), gender m f n.
    """
    _check(lang)
    if lang == "ru":
        return _ru().to_ordinal(n, case=case, gender=gender)
    return _script(_uz_ordinal(n), lang)


def decimal(text: str, lang: str) -> str:
    """A decimal written "3,5" or "3.5" -> "uch butun o'ndan besh" / "три целых пять десятых"."""
    _check(lang)
    whole, _, frac = text.replace(",", ".").partition(".")
    if not frac:
        return cardinal(int(whole or "0"), lang)
    if lang == "ru":
        try:
            return _ru().to_cardinal(Decimal(f"{whole or '0'}.{frac}"))
        except (InvalidOperation, ValueError, IndexError):
            return cardinal(int(whole or "0"), lang) + " " + digits(frac, lang)
    # Uzbek: whole "butun", then the denominator in the ablative: o'ndan, yuzdan, mingdan.
    denominator = _uz_cardinal(10 ** len(frac)).removeprefix("bir ")
    spoken = f"{_uz_cardinal(int(whole or '0'))} butun {denominator}dan {_uz_cardinal(int(frac))}"
    return _script(spoken, lang)


def digits(text: str, lang: str) -> str:
    """Each digit as a word, separated by commas so the voice pauses between them."""
    return ", ".join(cardinal(int(ch), lang) for ch in text if ch.isdecimal())


def amount(value: int | Decimal | str, lang: str) -> str:
    """An amount of soʻm: "bir million besh yuz ming so'm" / "один миллион пятьсот тысяч сумов".

    Tiyin (hundredths) are said when present and non-zero.
    """
    _check(lang)
    value = Decimal(str(value).replace(",", ".").replace(" ", ""))
    sums = int(value)
    tiyin = int((abs(value) - abs(sums)) * 100)
    if lang == "ru":
        spoken = f"{cardinal(sums, lang)} {ru_plural(abs(sums), RU_SUM)}"
        if tiyin:
            spoken += f" {cardinal(tiyin, lang)} {ru_plural(tiyin, RU_TIYIN)}"
        return spoken
    spoken = f"{_uz_cardinal(abs(sums))} so'm" if sums >= 0 else f"minus {_uz_cardinal(-sums)} so'm"
    if tiyin:
        spoken += f" {_uz_cardinal(tiyin)} tiyin"
    return _script(spoken, lang)


def year(n: int, lang: str, *, case: str = "g") -> str:
    """A year: "ikki ming yigirma to'rtinchi yil" / "две тысячи двадцать четвёртого года".

    ``case`` (Russian): "n" год, "g" года, "p" году.
    """
    _check(lang)
    if lang == "ru":
        noun = {"n": "год", "g": "года", "p": "году", "d": "году", "a": "год"}.get(case, "года")
        return f"{ordinal(n, lang, case=case)} {noun}"
    return _script(f"{_uz_ordinal(n)} yil", lang)


def day_month(day: int, month: int, lang: str) -> str:
    """ "beshinchi mart" / "пятое марта"."""
    _check(lang)
    if lang == "ru":
        return f"{ordinal(day, lang, gender='n')} {RU_MONTHS_GENITIVE[month - 1]}"
    return _script(f"{_uz_ordinal(day)} {UZ_MONTHS[month - 1]}", lang)


def date_words(d: dt.date, lang: str) -> str:
    """A whole date in the order each language says it.

    Uzbek: "ikki ming yigirma to'rtinchi yil beshinchi mart" (2024-yil 5-mart);
    Russian: "пятое марта две тысячи двадцать четвёртого года".
    """
    if lang == "ru":
        return f"{day_month(d.day, d.month, lang)} {year(d.year, lang)}"
    return f"{year(d.year, lang)} {day_month(d.day, d.month, lang)}"
