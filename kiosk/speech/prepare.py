"""Text prepared for the ear before espeak-ng reads it, per language.

What espeak-ng 1.51 does wrong on its own, and the fix here (checked with
``espeak-ng -v uz -q -x``):
- U+02BC (ʼ) makes the Uzbek voice spell the word and say "apostrophe" in English;
  a backtick splits the word. ASCII ' (like ʻ ‘ ’) reads as oʻ/gʻ and as the glottal
  stop of maʼlumot, so every variant is folded to ASCII '.
- Uzbek Cyrillic read by the Uzbek voice mangles ш (Тошкент -> "Toskent"), ё and ъ,
  so uz_Cyrl text is transliterated to Latin first (kiosk.translit.to_latin). A
  language is read by the rules of its speech language (kiosk.languages).
- Numbers are read digit by digit by the Uzbek voice ("2024" -> "ikki nol ikki
  to'rt"), and Russian needs agreement (сумов, пятое марта), so amounts, dates,
  ordinals and plain numbers become words (kiosk.speech.numbers).
- Abbreviations the voices mangle (FHDYo, JShShIR, т.е., г., ФИО) are expanded.
- Codes are read one character at a time, digits as words, groups apart (a tracking
  code in the groups its receipt shows; a PINFL or phone number in threes). The
  Russian voice names Latin letters in English, so they get their Russian names.
  Inside a sentence, a token of capitals and digits (K7M-4QXP-R) or of nine or more
  bare digits is read the same way.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Sequence
from decimal import Decimal

from kiosk import languages, tracking
from kiosk.speech import numbers
from kiosk.translit import to_latin

APOSTROPHES = "\u02bb\u02bc`\u2018\u2019\u02b9\u00b4"
_APOSTROPHE_RE = re.compile(f"[{APOSTROPHES}]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES_RE = re.compile(r"\s+")
NBSP = "\u00a0\u202f\u2009"  # the group separators Babel/CLDR writes for uz and ru

# Uzbek (Latin, after folding) abbreviations: whole-token, case-sensitive.
UZ_ABBREVIATIONS: dict[str, str] = {
    "FHDYo": "fuqarolik holati dalolatnomalarini yozish",
    "JShShIR": "jismoniy shaxsning shaxsiy identifikatsiya raqami",
    "F.I.Sh.": "familiya, ism, sharif",
    "FISh": "familiya, ism, sharif",
    "ID": "ay-di",
    "h.k.": "hokazo",
    "mln": "million",
    "mlrd": "milliard",
}
RU_ABBREVIATIONS: dict[str, str] = {
    "т.е.": "то есть",
    "т.д.": "так далее",
    "т.п.": "тому подобное",
    "т.к.": "так как",
    "др.": "другие",
    "ул.": "улица",
    "кв.": "квартира",
    "обл.": "область",
    "р-н": "район",
    "гг.": "годы",
    "ФИО": "фамилия, имя, отчество",
    "ID": "ай-ди",
    "млн": "миллионов",
    "млрд": "миллиардов",
    "тыс.": "тысяч",
}
# Russian names of Latin letters (the voice would say them in English).
RU_LATIN_LETTERS: dict[str, str] = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "а бэ цэ дэ е эф гэ аш и жи ка эль эм эн о пэ ку эр эс тэ у вэ дубль-вэ икс игрек зэт".split(),
        strict=True,
    )
)
# Latin letters named in the language, where its voice would name them in English.
LATIN_LETTER_NAMES: dict[str, dict[str, str]] = {"ru": RU_LATIN_LETTERS}
CODE_SYMBOLS: dict[str, dict[str, str]] = {
    "uz_Latn": {"+": "plyus", "/": "bo'lu", "*": "yulduzcha", "#": "panjara", "@": "kuchukcha"},
    "ru": {"+": "плюс", "/": "дробь", "*": "звёздочка", "#": "решётка", "@": "собака"},
}

# A number: groups split by non-breaking spaces (as Babel writes them), or plain digits;
# a decimal part after , or . when a digit follows.
_NUM = rf"\d{{1,3}}(?:[{NBSP}]\d{{3}})+|\d+"
_NUM_DEC = rf"(?:{_NUM})(?:[.,]\d+)?"
# In an amount people also group with ordinary spaces: "1 500 000 so'm".
_AMOUNT_NUM = rf"\d{{1,3}}(?:[ {NBSP}]\d{{3}})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"

# A run of this many digits, ungrouped and not an amount, is an identifier (PINFL: 14,
# phone: 12, STIR: 9) and is read back in groups like a code.
ID_DIGITS = 9
# A code inside a sentence: upper-case letters and digits, both present (K7M-4QXP-R,
# AA1234567). Dates and ordinals (5-mart) are words by the time this runs.
_CODE_TOKEN = re.compile(
    r"(?<![\w'])(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9]+(?:-[A-Z0-9]+)*(?![\w'-])"
)

_UZ_SCALE = {"ming": 10**3, "mln": 10**6, "million": 10**6, "mlrd": 10**9, "milliard": 10**9}
_RU_SCALE = {
    "тыс.": 10**3,
    "тысяч": 10**3,
    "тысячи": 10**3,
    "тысяча": 10**3,
    "млн": 10**6,
    "миллион": 10**6,
    "миллиона": 10**6,
    "миллионов": 10**6,
    "млрд": 10**9,
    "миллиард": 10**9,
    "миллиарда": 10**9,
    "миллиардов": 10**9,
}


def _word_re(words: Sequence[str]) -> str:
    """Alternation of words, longest first, bounded so "ID" does not match in "IDEA"."""
    alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return rf"(?<![\w'])(?:{alts})(?![\w'])"


def _to_int(raw: str) -> int:
    return int(re.sub(r"\D", "", raw))


def _to_decimal(raw: str) -> Decimal:
    return Decimal(re.sub(rf"[ {NBSP}]", "", raw).replace(",", "."))


def _number_words(raw: str, lang: str) -> str:
    """A plain number token: words, or digit by digit when words would mislead."""
    compact = re.sub(rf"[{NBSP}]", "", raw)
    whole = re.split(r"[.,]", compact)[0]
    if compact == raw and len(compact) >= ID_DIGITS:
        return _spell_code(compact, lang)  # a PINFL or phone number, not a quantity
    if (len(whole) > 1 and whole.startswith("0")) or int(whole) >= numbers.MAX_WORDS_NUMBER:
        return numbers.digits(compact, lang)  # "007": said as digits
    if re.search(r"[.,]", compact):
        return numbers.decimal(compact, lang)
    return numbers.cardinal(int(whole), lang)


def _scaled(raw: str, scale: str | None, table: dict[str, int]) -> Decimal:
    value = _to_decimal(raw)
    return value * table[scale] if scale else value


def _date_or_none(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _sub_dates(text: str, lang: str) -> str:
    """ISO 2024-03-05 and 05.03.2024 -> the whole date in words."""

    def iso(m: re.Match[str]) -> str:
        d = _date_or_none(int(m[1]), int(m[2]), int(m[3]))
        return numbers.date_words(d, lang) if d else m[0]

    def dotted(m: re.Match[str]) -> str:
        d = _date_or_none(int(m[3]), int(m[2]), int(m[1]))
        return numbers.date_words(d, lang) if d else m[0]

    text = re.sub(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])", iso, text)
    return re.sub(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4})(?![\d.])", dotted, text)


def _sub_times(text: str, lang: str) -> str:
    def time(m: re.Match[str]) -> str:
        hours = numbers.cardinal(int(m[1]), lang)
        minutes = m[2]
        said = numbers.digits(minutes, lang) if minutes == "00" else _number_words(minutes, lang)
        return f"{hours} {said.replace(',', '')}"

    return re.sub(r"(?<![\d:])([01]?\d|2[0-3]):([0-5]\d)(?![\d:])", time, text)


def _prepare_uz(text: str) -> str:
    lang = "uz_Latn"
    text = _APOSTROPHE_RE.sub("'", text)
    text = _sub_dates(text, lang)
    text = _sub_times(text, lang)
    # Amounts: "1 500 000 so'm", "1,5 mln so'm", "150 ming UZS".
    scales = "|".join(sorted(_UZ_SCALE, key=len, reverse=True))
    text = re.sub(
        rf"(?<![\d.,])({_AMOUNT_NUM})\s*(?:({scales})\s+)?(?:so'm|som|sum|UZS)(?![\w'])",
        lambda m: numbers.amount(_scaled(m[1], m[2], _UZ_SCALE), lang),
        text,
    )
    # "2024 y." -> "2024-yil"; then N-word is an ordinal: 5-mart, 2024-yil, 3-uy.
    text = re.sub(r"(\d)\s*y\.", r"\1-yil", text)
    text = re.sub(
        r"(?<![\d.,])(\d+)-(?=[^\W\d_])",
        lambda m: numbers.ordinal(int(m[1]), lang) + " ",
        text,
    )
    text = re.sub(
        rf"(?<![\d.,])({_NUM_DEC})\s*%", lambda m: f"{_number_words(m[1], lang)} foiz", text
    )
    text = text.replace("№", " raqam ")
    text = re.sub(_word_re(list(UZ_ABBREVIATIONS)), lambda m: UZ_ABBREVIATIONS[m[0]], text)
    text = _CODE_TOKEN.sub(lambda m: _spell_code(m[0], lang), text)
    return re.sub(rf"({_NUM_DEC})", lambda m: _number_words(m[1], lang), text)  # the rest


# Case of a Russian ordinal after a preposition: "до 5 марта" -> "до пятого марта".
_RU_PREP_CASE = {"до": "g", "с": "g", "со": "g", "от": "g", "после": "g", "около": "g"}
_RU_PREP_CASE |= {"к": "d", "по": "a"}
_RU_MONTHS = "|".join(numbers.RU_MONTHS_GENITIVE)
# Suffixes of written Russian ordinals: 5-й, 2-я, 3-е, 5-го, 5-му, 5-м, 5-ой, 5-ю.
_RU_ORDINAL_SUFFIX = {
    "й": ("n", "m"),
    "ый": ("n", "m"),
    "я": ("n", "f"),
    "ая": ("n", "f"),
    "е": ("n", "n"),
    "ое": ("n", "n"),
    "го": ("g", "m"),
    "ого": ("g", "m"),
    "му": ("d", "m"),
    "ому": ("d", "m"),
    "м": ("p", "m"),
    "ом": ("p", "m"),
    "ой": ("g", "f"),
    "ю": ("a", "f"),
}


def _prepare_ru(text: str) -> str:
    lang = "ru"
    text = _sub_dates(text, lang)
    text = _sub_times(text, lang)

    def day_month(m: re.Match[str]) -> str:
        prep = m[1] or ""
        case = _RU_PREP_CASE.get(prep.strip().lower(), "n")
        day = numbers.ordinal(int(m[2]), lang, case=case, gender="n")
        return f"{prep}{day} {m[3]}"

    text = re.sub(
        rf"(?i:(?<!\w)(до |со |с |от |после |около |к |по ))?(?<!\d)(\d{{1,2}})\s+({_RU_MONTHS})(?!\w)",
        day_month,
        text,
    )

    def year(m: re.Match[str]) -> str:
        noun = m[2].lower()
        case = "n" if noun == "год" else "p" if noun == "году" else "g"
        return numbers.year(int(m[1]), lang, case=case)

    text = re.sub(r"(?<![\d.,])(\d{3,4})\s*(г\.|года|году|год)(?!\w)", year, text)
    scales = "|".join(re.escape(s) for s in sorted(_RU_SCALE, key=len, reverse=True))
    text = re.sub(
        rf"(?<![\d.,])({_AMOUNT_NUM})\s*(?:({scales})\s*)?(?:сумов|сума|сум|сўм|UZS)(?!\w)",
        lambda m: numbers.amount(_scaled(m[1], m[2], _RU_SCALE), lang),
        text,
    )

    def ordinal(m: re.Match[str]) -> str:
        case, gender = _RU_ORDINAL_SUFFIX[m[2]]
        return numbers.ordinal(int(m[1]), lang, case=case, gender=gender)

    suffixes = "|".join(sorted(_RU_ORDINAL_SUFFIX, key=len, reverse=True))
    text = re.sub(rf"(?<![\d.,])(\d+)-({suffixes})(?!\w)", ordinal, text)

    def percent(m: re.Match[str]) -> str:
        raw = m[1]
        if re.search(r"[.,]", raw):
            return f"{_number_words(raw, lang)} процента"
        forms = ("процент", "процента", "процентов")
        return f"{_number_words(raw, lang)} {numbers.ru_plural(_to_int(raw), forms)}"

    text = re.sub(rf"(?<![\d.,])({_NUM_DEC})\s*%", percent, text)
    # "г." before a name is "город"; "д." before a number is "дом".
    text = re.sub(r"(?<!\w)г\.\s*(?=[А-ЯЁ])", "город ", text)
    text = re.sub(r"(?<!\w)д\.\s*(?=\d)", "дом ", text)
    text = text.replace("№", " номер ")
    text = re.sub(_word_re(list(RU_ABBREVIATIONS)), lambda m: RU_ABBREVIATIONS[m[0]], text)
    text = _CODE_TOKEN.sub(lambda m: _spell_code(m[0], lang), text)
    return re.sub(rf"({_NUM_DEC})", lambda m: _number_words(m[1], lang), text)  # the rest


def _spell_char(ch: str, lang: str) -> str:
    if ch.isdecimal():  # not isdigit: "²" is a digit int() refuses
        return numbers.cardinal(int(ch), lang)
    if ch.upper() in LATIN_LETTER_NAMES.get(lang, {}):
        return LATIN_LETTER_NAMES[lang][ch.upper()]
    if ch in CODE_SYMBOLS.get(lang, {}):
        return CODE_SYMBOLS[lang][ch]
    # The Uzbek voice names a lone capital letter (K -> "ka"); Cyrillic letters too.
    return ch.upper()


def _code_groups(code: str) -> list[str]:
    """Groups as written (split at - space . _); long digit runs cut in threes.

    "K7M-4QXP-R" keeps its three groups; "AA1234567" -> AA 123 4567; a PINFL of 14
    digits -> 312 058 512 345 67; "ABCDEFGHJK" -> ABCD EFGH JK.
    """
    groups: list[str] = []
    for part in re.split(r"[\s\-._]+", code):
        if not re.search(r"\d{5}", part):
            # An unbroken run of letters and digits is heard in fours.
            groups += [part[i : i + 4] for i in range(0, len(part), 4)] if len(part) > 6 else [part]
            continue
        for run in re.findall(r"\d+|\D+", part):
            if run.isdigit() and len(run) > 4:
                chunks = [run[i : i + 3] for i in range(0, len(run), 3)]
                if len(chunks[-1]) == 1:  # never leave one digit alone at the end
                    chunks[-2:] = [chunks[-2] + chunks[-1]]
                groups += chunks
            elif run:
                groups.append(run)
    return groups


def _spell_code(code: str, lang: str) -> str:
    """ "K7M-4QXP-R" -> "K, yetti, M. to'rt, Q, X, P. R" (a full stop pauses longer)."""
    groups = [
        ", ".join(_spell_char(ch, lang) for ch in group if not ch.isspace())
        for group in _code_groups(code)
    ]
    return ". ".join(g for g in groups if g)


# The text rules of each speech language (kiosk.languages.speech_lang): uz_Cyrl and a
# language without a voice of its own are read by another language's rules.
_PREPARERS: dict[str, Callable[[str], str]] = {"uz_Latn": _prepare_uz, "ru": _prepare_ru}
# What the voice of a speech language needs first: the Uzbek voice reads Latin only.
_LETTERS: dict[str, Callable[[str], str]] = {"uz_Latn": to_latin}


def _speech_lang(lang: str) -> str:
    try:
        return languages.speech_lang(lang)
    except ValueError:  # not a kiosk language: read as written
        return lang


def prepare_text(text: str, lang: str, kind: str = "text") -> str:
    """The text espeak-ng should read for ``text`` in ``lang`` ("" for nothing to say).

    ``kind="code"`` reads a tracking code, PINFL or passport number one character at
    a time. Idempotent: preparing prepared text changes nothing.
    """
    if kind not in ("text", "code"):
        raise ValueError(f"unknown kind {kind!r}; expected 'text' or 'code'")
    text = _CONTROL_RE.sub(" ", unicodedata.normalize("NFC", text or ""))
    if kind == "code" and tracking.is_valid(text):
        text = tracking.format_code(text)  # heard in the groups the receipt shows
    lang = _speech_lang(lang)
    text = _LETTERS.get(lang, str)(text)  # to_latin leaves Latin text as it is
    if lang not in _PREPARERS:  # en (developers): the voice copes with numbers and letters
        if kind == "code":
            return ". ".join(", ".join(g) for g in _code_groups(text.strip()) if g)
        return _SPACES_RE.sub(" ", text).strip()
    if kind == "code":
        text = _APOSTROPHE_RE.sub("'", text)
        return _spell_code(text.strip(), lang)
    return _SPACES_RE.sub(" ", _PREPARERS[lang](text)).strip()


def choices_prompt(labels: Sequence[str], lang: str) -> str:
    """Numbered choices for the ear: "Bir: Ha. Ikki: Yo'q." (numbers as words)."""
    parts = []
    for number, label in enumerate(labels, start=1):
        spoken = _speech_lang(lang)
        word = numbers.cardinal(number, spoken) if numbers.words_for(spoken) else str(number)
        said = prepare_text(label, lang).rstrip(".!?;:, ")
        parts.append(f"{word[:1].upper()}{word[1:]}: {said}.")
    return " ".join(parts)


def code_prompt(code: str, lang: str) -> str:
    """A code read character by character, ready for ``SpeechService.speak``."""
    return prepare_text(code, lang, kind="code")
