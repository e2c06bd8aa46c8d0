"""Uzbek identity validators: PINFL (JShShIR), phone numbers, passport series.

Each takes whatever a citizen typed (spaces, dashes, Cyrillic look-alike letters,
full-width digits) and never raises on bad input: it answers False or None, and
``explain()`` says what is wrong in the citizen's language.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import phonenumbers

from kiosk.i18n import tr

# --- PINFL ---------------------------------------------------------------------------

PINFL_LENGTH = 14
_PINFL_WEIGHTS = ((7, 3, 1) * 5)[:13]  # first 13 digits weighted 7,3,1,7,3,1,...
# First digit: century and sex. Odd digits are men, even digits women.
_CENTURY = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}
_SEPARATORS = re.compile(r"[\s\-‐-―−.]+")
_ASCII_DIGITS = re.compile(r"[0-9]*")


def _compact(s: object) -> str:
    """NFKC (full-width digits become ASCII), separators and spaces removed."""
    if not isinstance(s, str):
        return ""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", s))


def normalize_pinfl(s: str) -> str:
    """The PINFL with spaces and dashes removed (not checked)."""
    return _compact(s)


def pinfl_check_digit(first13: str) -> int:
    """The check digit of the first 13 digits: weighted 7,3,1 sum mod 10."""
    return sum(int(d) * w for d, w in zip(first13, _PINFL_WEIGHTS, strict=True)) % 10


def _pinfl_date(p: str) -> date | None:
    century = _CENTURY.get(int(p[0]))
    if century is None:
        return None
    try:
        return date(century + int(p[5:7]), int(p[3:5]), int(p[1:3]))
    except ValueError:
        return None


def pinfl_problem(s: str, today: date | None = None) -> str | None:
    """What is wrong with a PINFL: 'digits', 'length', 'century', 'date', 'checksum'
    (checked in that order), or None when it is valid."""
    p = _compact(s)
    if not _ASCII_DIGITS.fullmatch(p):
        return "digits"
    if len(p) != PINFL_LENGTH:
        return "length"
    if int(p[0]) not in _CENTURY:
        return "century"
    born = _pinfl_date(p)
    if born is None or born > (today or date.today()):
        return "date"
    if pinfl_check_digit(p[:13]) != int(p[13]):
        return "checksum"
    return None


def is_valid_pinfl(s: str, today: date | None = None) -> bool:
    return pinfl_problem(s, today) is None


def pinfl_birth_date(s: str) -> date | None:
    """The birth date a valid PINFL encodes, else None."""
    return _pinfl_date(_compact(s)) if is_valid_pinfl(s) else None


def pinfl_sex(s: str) -> str | None:
    """'m' or 'f' from a valid PINFL's first digit, else None."""
    if not is_valid_pinfl(s):
        return None
    return "m" if int(_compact(s)[0]) % 2 else "f"


def make_pinfl(birth: date, sex: str, area: int, serial: int) -> str:
    """A valid PINFL for test and sample data, with its check digit computed."""
    if sex not in ("m", "f"):
        raise ValueError(f"sex must be 'm' or 'f', not {sex!r}")
    if not (0 <= area <= 999 and 0 <= serial <= 999):
        raise ValueError("area and serial must be 0..999")
    base = {1800: 1, 1900: 3, 2000: 5}.get(birth.year // 100 * 100)
    if base is None:
        raise ValueError(f"a PINFL encodes births in 1800-2099, not {birth.year}")
    first = base if sex == "m" else base + 1
    body = f"{first}{birth:%d%m}{birth.year % 100:02d}{area:03d}{serial:03d}"
    return body + str(pinfl_check_digit(body))


# --- phone ---------------------------------------------------------------------------

_UZ = "UZ"


def _parse_phone(s: str) -> phonenumbers.PhoneNumber | None:
    if not isinstance(s, str) or not s.strip():
        return None
    try:
        return phonenumbers.parse(unicodedata.normalize("NFKC", s), _UZ)
    except phonenumbers.NumberParseException:
        return None


def _uz_number(s: str) -> phonenumbers.PhoneNumber | None:
    n = _parse_phone(s)
    if n is None or not phonenumbers.is_valid_number(n):
        return None
    if phonenumbers.region_code_for_number(n) != _UZ:
        return None
    return n


def normalize_phone(s: str) -> str | None:
    """An Uzbek number in E.164 (``+998901234567``), or None if it is not one."""
    n = _uz_number(s)
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164) if n else None


def is_valid_phone(s: str) -> bool:
    """True for a valid Uzbek number: ``90 123 45 67``, ``+998 90 123-45-67``,
    ``998901234567``. (The old trunk prefix, ``8 90 ...``, is not accepted.)"""
    return _uz_number(s) is not None


def format_phone(s: str) -> str:
    """``+998 90 123 45 67`` for a valid Uzbek number; other input comes back trimmed."""
    n = _uz_number(s)
    if n is None:
        return s.strip() if isinstance(s, str) else ""
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# --- passport ------------------------------------------------------------------------

# A series typed on a Cyrillic layout: letters that look like Latin ones (А, В, С, Е, Н,
# К, М, О, Р, Т, Х, У) become those, and letters with no Latin twin become the Latin
# letter they are read as (АД is how a citizen reads the AD of an ID card). A series is
# always Latin, so accepting it in Cyrillic is kinder than refusing it.
_LOOKALIKES = str.maketrans("АВСЕНКМОРТХУБГДЗИЛПФ", "ABCEHKMOPTXYBGDZILPF")
_PASSPORT = re.compile(r"[A-Z]{2}[0-9]{7}")


def passport_latin(s: str) -> str:
    """What was typed as a series would be read: compact, upper case, Cyrillic letters
    in Latin (``ад 44 55`` -> ``AD4455``); not checked."""
    return _compact(s).upper().translate(_LOOKALIKES)


def normalize_passport(s: str) -> str | None:
    """``AA1234567`` from ``aa 123 45 67`` or ``АД1234567`` (Cyrillic), else None."""
    p = passport_latin(s)
    return p if _PASSPORT.fullmatch(p) else None


def is_valid_passport(s: str) -> bool:
    """Two Latin letters and seven digits: passports (AA, AB...) and ID cards (AD...)."""
    return normalize_passport(s) is not None


# --- messages ------------------------------------------------------------------------


def _pinfl_message(value: str, lang: str) -> str | None:
    problem = pinfl_problem(value)
    if problem is None:
        return None
    if problem == "digits":
        return tr(lang, "The PINFL must contain digits only.")
    if problem == "length":
        return tr(
            lang,
            "The PINFL must have 14 digits; you entered {n}.",
            n=len(_compact(value)),
        )
    if problem == "century":
        return tr(lang, "The first digit of the PINFL must be from 1 to 6.")
    if problem == "date":
        return tr(
            lang,
            "Digits 2 to 7 of the PINFL must be a date of birth (DDMMYY); please check the number.",
        )
    return tr(lang, "The last digit of the PINFL does not match; please check the number.")


def _phone_message(value: str, lang: str) -> str | None:
    if is_valid_phone(value):
        return None
    n = _parse_phone(value)
    if n is not None and phonenumbers.is_valid_number(n):
        return tr(lang, "Only Uzbek phone numbers (+998) are accepted.")
    return tr(lang, "Enter a phone number like +998 90 123 45 67.")


def _passport_message(value: str, lang: str) -> str | None:
    if is_valid_passport(value):
        return None
    return tr(
        lang,
        "Enter the passport series and number: two Latin letters and seven digits, like AA1234567.",
    )


def pinfl_birth_problem(pinfl: str, born: date) -> date | None:
    """The birth date a valid PINFL encodes when it is not ``born`` (digits 2 to 7 are
    DDMMYY, the century from the first digit); None when they agree or the PINFL is not
    valid (its own question says what is wrong with it)."""
    encoded = pinfl_birth_date(pinfl)
    return encoded if encoded is not None and encoded != born else None


_EXPLAIN = {"pinfl": _pinfl_message, "phone": _phone_message, "passport": _passport_message}


def explain(kind: str, value: str, lang: str) -> str | None:
    """Why ``value`` is not a valid ``kind`` ('pinfl', 'phone', 'passport'), in
    ``lang``; None when it is valid (or the kind has no validator)."""
    check = _EXPLAIN.get(kind)
    return check(value if isinstance(value, str) else "", lang) if check else None
