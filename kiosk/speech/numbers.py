"""Numbers, ordinals, dates and amounts as words, for the ear.

Each language's words are one entry of ``WORDS`` (data, looked up by language code);
a language without an entry is read with its speech language's words
(kiosk.languages). Russian goes through num2words (cases, genders and ordinals done
right); num2words 0.5.14 has no Uzbek, so Uzbek is written here: its numerals are
regular (the words of each group, then the scale word) and ordinals only add
-(i)nchi. Uzbek Cyrillic words are the Latin ones through kiosk.translit, so there is
one table.

Latin Uzbek output uses the ASCII apostrophe (to'rt): espeak-ng's Uzbek voice reads
it as the letter oʻ, whereas U+02BC makes it spell the word letter by letter.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, Protocol

from kiosk import languages
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

MAX_WORDS_NUMBER = 10**15  # beyond this a number is read digit by digit


@cache
def _ru() -> Any:  # num2words.lang_RU.Num2Word_RU: num2words ships no types
    from num2words import CONVERTER_CLASSES

    return CONVERTER_CLASSES["ru"]


def ru_plural(n: int, forms: tuple[str, str, str]) -> str:
    """The Russian noun form for ``n``: forms for 1, 2-4 and 5+ (сум, сума, сумов)."""
    return str(_ru().pluralize(n, forms))


class NumberWords(Protocol):
    """One language's numbers as words; ``n`` is never negative except in cardinal."""

    def cardinal(self, n: int) -> str: ...
    def ordinal(self, n: int, case: str, gender: str) -> str: ...
    def decimal(self, whole: str, frac: str) -> str: ...
    def amount(self, sums: int, tiyin: int) -> str: ...
    def year(self, n: int, case: str) -> str: ...
    def day_month(self, day: int, month: int) -> str: ...
    def date_words(self, d: dt.date) -> str: ...


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


class _Uzbek:
    """Uzbek words from the Latin tables, in Latin or (``cyrillic``) Cyrillic letters."""

    def __init__(self, cyrillic: bool) -> None:
        self._cyrillic = cyrillic

    def _script(self, text: str) -> str:
        return to_cyrillic(text) if self._cyrillic else text

    def cardinal(self, n: int) -> str:
        return self._script(("minus " if n < 0 else "") + _uz_cardinal(abs(n)))

    def ordinal(self, n: int, case: str, gender: str) -> str:
        return self._script(_uz_ordinal(n))

    def decimal(self, whole: str, frac: str) -> str:
        # Whole "butun", then the denominator in the ablative: o'ndan, yuzdan, mingdan.
        denominator = _uz_cardinal(10 ** len(frac)).removeprefix("bir ")
        spoken = (
            f"{_uz_cardinal(int(whole or '0'))} butun {denominator}dan {_uz_cardinal(int(frac))}"
        )
        return self._script(spoken)

    def amount(self, sums: int, tiyin: int) -> str:
        spoken = f"{_uz_cardinal(abs(sums))} so'm"
        if sums < 0:
            spoken = f"minus {spoken}"
        if tiyin:
            spoken += f" {_uz_cardinal(tiyin)} tiyin"
        return self._script(spoken)

    def year(self, n: int, case: str) -> str:
        return self._script(f"{_uz_ordinal(n)} yil")

    def day_month(self, day: int, month: int) -> str:
        return self._script(f"{_uz_ordinal(day)} {UZ_MONTHS[month - 1]}")

    def date_words(self, d: dt.date) -> str:
        # 2024-yil 5-mart: the year first.
        return f"{self.year(d.year, 'g')} {self.day_month(d.day, d.month)}"


class _Russian:
    """Russian words through num2words, with the agreement Russian needs."""

    def cardinal(self, n: int) -> str:
        return ("минус " if n < 0 else "") + str(_ru().to_cardinal(abs(n)))

    def ordinal(self, n: int, case: str, gender: str) -> str:
        return str(_ru().to_ordinal(n, case=case, gender=gender))

    def decimal(self, whole: str, frac: str) -> str:
        try:
            return str(_ru().to_cardinal(Decimal(f"{whole or '0'}.{frac}")))
        except (InvalidOperation, ValueError, IndexError):
            return self.cardinal(int(whole or "0")) + " " + digits(frac, "ru")

    def amount(self, sums: int, tiyin: int) -> str:
        spoken = f"{self.cardinal(sums)} {ru_plural(abs(sums), RU_SUM)}"
        if tiyin:
            spoken += f" {self.cardinal(tiyin)} {ru_plural(tiyin, RU_TIYIN)}"
        return spoken

    def year(self, n: int, case: str) -> str:
        noun = {"n": "год", "g": "года", "p": "году", "d": "году", "a": "год"}.get(case, "года")
        return f"{self.ordinal(n, case, 'm')} {noun}"

    def day_month(self, day: int, month: int) -> str:
        return f"{self.ordinal(day, 'n', 'n')} {RU_MONTHS_GENITIVE[month - 1]}"

    def date_words(self, d: dt.date) -> str:
        # пятое марта две тысячи двадцать четвёртого года: the day first.
        return f"{self.day_month(d.day, d.month)} {self.year(d.year, 'g')}"


# Number words by language code; other languages use their speech language's.
WORDS: dict[str, NumberWords] = {
    "uz_Latn": _Uzbek(cyrillic=False),
    "uz_Cyrl": _Uzbek(cyrillic=True),
    "ru": _Russian(),
}


def words_for(lang: str) -> NumberWords | None:
    """``lang``'s number words, else its speech language's, else None (en)."""
    if lang in WORDS:
        return WORDS[lang]
    try:
        return WORDS.get(languages.speech_lang(lang))
    except ValueError:  # not a registered language
        return None


def _words(lang: str) -> NumberWords:
    words = words_for(lang)
    if words is None:
        raise ValueError(f"no number words for language {lang!r}")
    return words


def cardinal(n: int, lang: str) -> str:
    """``1500000`` -> "bir million besh yuz ming" / "один миллион пятьсот тысяч"."""
    return _words(lang).cardinal(n)


def ordinal(n: int, lang: str, *, case: str = "n", gender: str = "m") -> str:
    """``5`` -> "beshinchi" / "пятый"; ``case`` and ``gender`` matter only in Russian.

    Russian case is one of n g d a i p (num2words' letters), gender m f n.
    """
    return _words(lang).ordinal(n, case, gender)


def decimal(text: str, lang: str) -> str:
    """A decimal written "3,5" or "3.5" -> "uch butun o'ndan besh" / "три целых пять десятых"."""
    words = _words(lang)
    whole, _, frac = text.replace(",", ".").partition(".")
    if not frac:
        return words.cardinal(int(whole or "0"))
    return words.decimal(whole, frac)


def digits(text: str, lang: str) -> str:
    """Each digit as a word, separated by commas so the voice pauses between them."""
    return ", ".join(cardinal(int(ch), lang) for ch in text if ch.isdecimal())


def amount(value: int | Decimal | str, lang: str) -> str:
    """An amount of soʻm: "bir million besh yuz ming so'm" / "один миллион пятьсот тысяч сумов".

    Tiyin (hundredths) are said when present and non-zero.
    """
    words = _words(lang)
    value = Decimal(str(value).replace(",", ".").replace(" ", ""))
    sums = int(value)
    return words.amount(sums, int((abs(value) - abs(sums)) * 100))


def year(n: int, lang: str, *, case: str = "g") -> str:
    """A year: "ikki ming yigirma to'rtinchi yil" / "две тысячи двадцать четвёртого года".

    ``case`` (Russian): "n" год, "g" года, "p" году.
    """
    return _words(lang).year(n, case)


def day_month(day: int, month: int, lang: str) -> str:
    """ "beshinchi mart" / "пятое марта"."""
    return _words(lang).day_month(day, month)


def date_words(d: dt.date, lang: str) -> str:
    """A whole date in the order each language says it.

    Uzbek: "ikki ming yigirma to'rtinchi yil beshinchi mart" (2024-yil 5-mart);
    Russian: "пятое марта две тысячи двадцать четвёртого года".
    """
    return _words(lang).date_words(d)
