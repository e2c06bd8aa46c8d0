"""Turning what people type (or what `kiosk submit` JSON holds) into typed answers.

Each parser returns the engine's Python value or raises `BadValue` with a code; the
engine turns codes into messages in the session's language. Empty input means "no
answer" (None), never an error here: whether an answer is required is the engine's job.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re

from kiosk.textnorm import normalize_text
from kiosk.validators import normalize_passport, normalize_phone, normalize_pinfl

# Spaces people (and Excel, and Russian locales) put between digit groups.
_GROUP_SPACES = re.compile(r"[\s\u00a0\u202f\u2009_']")
_INT = re.compile(r"[+-]?\d+")
_GROUPED_INT = re.compile(r"[+-]?\d{1,3}([.,])\d{3}(?:\1\d{3})*")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
# dd.mm.yyyy is the local habit; / and - too, always day first.
_LOCAL_DATE = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})")
# Between the digit groups of a bank card number, as printed on the card or typed.
_CARD_SEPARATORS = re.compile(r"[\s\u00a0\-\u2010-\u2015\u2212]+")
ACK = "OK"
# Beyond any count or sum of money a form asks for; also keeps Python's int() digit
# limit, float overflow and Babel's formatting (which fails from 10**25) out of reach.
MAX_MAGNITUDE = 10**18
_ACK_WORDS = {"ok", "yes", "true", "1", "ha", "да"}

# What parsing input gives: one value of each question type, or None for no answer.
Parsed = str | int | float | dt.date | list[str] | None


class BadValue(ValueError):
    """Input that does not parse as the question's type; `code` names the problem."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def is_empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == ()


def parse_integer(raw: object) -> int | None:
    if isinstance(raw, bool):
        raise BadValue("integer")
    if isinstance(raw, int):
        return _bounded(raw, "integer")
    if isinstance(raw, float):
        if raw.is_integer():
            return _bounded(int(raw), "integer")
        raise BadValue("integer")
    text = _GROUP_SPACES.sub("", str(raw).strip())
    if not text:
        return None
    if _GROUPED_INT.fullmatch(text):
        text = re.sub(r"[.,]", "", text)
    # Length first: int() of thousands of digits is slow, then refused by Python.
    if not _INT.fullmatch(text) or len(text) > 20:
        raise BadValue("integer")
    return _bounded(int(text), "integer")


def _bounded(value: int, code: str) -> int:
    if abs(value) >= MAX_MAGNITUDE:
        raise BadValue(code)
    return value


def parse_decimal(raw: object) -> float | None:
    """ "1,5" (Russian style) and "1 500,25" and "1,500.25" all parse."""
    if isinstance(raw, bool):
        raise BadValue("decimal")
    if isinstance(raw, int):
        value = float(_bounded(raw, "decimal"))
    elif isinstance(raw, float):
        value = raw
    else:
        text = _GROUP_SPACES.sub("", str(raw).strip())
        if not text:
            return None
        if "," in text and "." in text:
            # The later separator is the decimal one; the other groups digits.
            dec = "," if text.rfind(",") > text.rfind(".") else "."
            text = text.replace("." if dec == "," else ",", "").replace(",", ".")
        elif text.count(",") == 1:
            text = text.replace(",", ".")
        elif text.count(",") > 1 or text.count(".") > 1:
            if not _GROUPED_INT.fullmatch(text):
                raise BadValue("decimal")
            text = re.sub(r"[.,]", "", text)
        if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", text):
            raise BadValue("decimal")
        value = float(text)
    if not math.isfinite(value) or abs(value) >= MAX_MAGNITUDE:
        raise BadValue("decimal")
    return value


def parse_date(raw: object) -> dt.date | None:
    """`2024-03-05`, `05.03.2024`, `5/3/2024` (day first) -> date(2024, 3, 5)."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if not isinstance(raw, str):
        raise BadValue("date")
    text = raw.strip()
    if not text:
        return None
    if m := _ISO_DATE.fullmatch(text):
        y, mo, d = (int(g) for g in m.groups())
    elif m := _LOCAL_DATE.fullmatch(text):
        d, mo, y = (int(g) for g in m.groups())
    else:
        raise BadValue("date")
    try:
        return dt.date(y, mo, d)
    except ValueError:
        raise BadValue("date") from None


def date_problem(raw: object) -> tuple[str, dict[str, object]]:
    """Why ``raw`` is not a date, for the message: ("day", {date, days}) when the month
    has no such day (31.02.1991), ("month", {month}) when there is no such month, else
    ("format", {}) (not day, month and year at all)."""
    text = raw.strip() if isinstance(raw, str) else ""
    if m := _ISO_DATE.fullmatch(text):
        y, mo, d = (int(g) for g in m.groups())
    elif m := _LOCAL_DATE.fullmatch(text):
        d, mo, y = (int(g) for g in m.groups())
    else:
        return "format", {}
    if not 1 <= mo <= 12:
        return "month", {"month": mo}
    if d >= 1 and 1 <= y <= 9999:
        days = calendar.monthrange(y, mo)[1]
        if d > days:
            return "day", {"date": f"{d:02d}.{mo:02d}.{y:04d}", "days": days}
    return "format", {}


# 9:05, 09.05, 09:05:30 -> "09:05:00" (stored as ODK's time, without a zone: the
# kiosk's local time, as ODK Collect's own clock).
_TIME = re.compile(r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?")
TIME_VALUE = re.compile(r"\d{2}:\d{2}:\d{2}")
DATETIME_VALUE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def parse_time(raw: object) -> str | None:
    """`9:05`, `09.05`, `09:05:30` -> "09:05:00"; BadValue("time") for anything else."""
    if isinstance(raw, dt.time):
        return raw.replace(microsecond=0).isoformat()
    if not isinstance(raw, str):
        raise BadValue("time")
    text = raw.strip()
    if not text:
        return None
    m = _TIME.fullmatch(text)
    if not m:
        raise BadValue("time")
    h, mi, sec = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if h > 23 or mi > 59 or sec > 59:
        raise BadValue("time")
    return f"{h:02d}:{mi:02d}:{sec:02d}"


def parse_datetime(raw: object) -> str | None:
    """A date and a time: `05.03.2024 9:05`, `2024-03-05T09:05:00` -> "2024-03-05T09:05:00"."""
    if isinstance(raw, dt.datetime):
        return raw.replace(microsecond=0, tzinfo=None).isoformat()
    if not isinstance(raw, str):
        raise BadValue("dateTime")
    text = raw.strip()
    if not text:
        return None
    # ODK's own form: 2024-03-05T09:05:00.000+05:00 (the zone and fractions dropped).
    text = re.sub(r"(\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?$", r"\1", text)
    parts = re.split(r"[T\s]+", text, maxsplit=1)
    if len(parts) != 2:
        raise BadValue("dateTime")
    try:
        day = parse_date(parts[0])
        clock = parse_time(parts[1])
    except BadValue:
        raise BadValue("dateTime") from None
    if day is None or clock is None:
        raise BadValue("dateTime")
    return f"{day.isoformat()}T{clock}"


def parse_range(raw: object) -> int | float | None:
    """A number on a range: a whole number stays whole ("3" -> 3, "2,5" -> 2.5)."""
    try:
        value = parse_decimal(raw)
    except BadValue:
        raise BadValue("range") from None
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def parse_select_one(raw: object) -> str | None:
    if isinstance(raw, bool) or isinstance(raw, list | dict):
        raise BadValue("select_one")
    text = str(raw).strip()
    return text or None


def parse_select_multiple(raw: object) -> list[str] | None:
    """A list of choice names, or the space-separated string ODK stores."""
    if isinstance(raw, str):
        items = raw.split()
    elif isinstance(raw, list | tuple):
        if not all(isinstance(x, str | int) and not isinstance(x, bool) for x in raw):
            raise BadValue("select_multiple")
        items = [str(x).strip() for x in raw]
    else:
        raise BadValue("select_multiple")
    seen = list(dict.fromkeys(x for x in items if x))
    return seen or None


def parse_acknowledge(raw: object) -> str | None:
    if raw is True:
        return ACK
    if raw is None or raw is False:
        return None
    text = str(raw).strip()
    if not text:
        return None
    if text.lower() in _ACK_WORDS:
        return ACK
    raise BadValue("acknowledge")


def parse_text(raw: object, kind: str | None = None) -> str | None:
    """Free text through normalize_text; PINFL, phone and passport normalised by kind.

    A phone or passport that does not normalise is kept as typed (normalised text) so
    the screen shows it and the validator explains what is wrong.
    """
    if isinstance(raw, bool) or isinstance(raw, list | dict):
        raise BadValue("text")
    text = normalize_text(str(raw)).strip()
    if not text:
        return None
    if kind == "pinfl":
        return normalize_pinfl(text)
    if kind == "phone":
        return normalize_phone(text) or text
    if kind == "passport":
        return normalize_passport(text) or text
    if kind == "card":
        digits = _CARD_SEPARATORS.sub("", text)
        return digits if digits.isascii() and digits.isdigit() else text
    return text


def parse_value(qtype: str, raw: object, kind: str | None = None) -> Parsed:
    """Raw input for a question of `qtype` as the engine's value (None for no answer)."""
    if raw is None:
        return None
    if qtype == "integer":
        return parse_integer(raw)
    if qtype == "decimal":
        return parse_decimal(raw)
    if qtype == "date":
        return parse_date(raw)
    if qtype == "select_one":
        return parse_select_one(raw)
    if qtype == "select_multiple":
        return parse_select_multiple(raw)
    if qtype == "acknowledge":
        return parse_acknowledge(raw)
    if qtype == "time":
        return parse_time(raw)
    if qtype == "dateTime":
        return parse_datetime(raw)
    if qtype == "range":
        return parse_range(raw)
    if qtype == "rank":  # the choice names, first to last
        return parse_select_multiple(raw)
    if qtype == "text":
        return parse_text(raw, kind)
    raise BadValue("read_only")


def has_type(qtype: str, value: object) -> bool:
    """Whether a stored value is of the question's type (raw invalid input is kept as str)."""
    if qtype == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if qtype in ("decimal", "range"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if qtype == "date":
        return isinstance(value, dt.date)
    if qtype == "time":
        return isinstance(value, str) and TIME_VALUE.fullmatch(value) is not None
    if qtype == "dateTime":
        return isinstance(value, str) and DATETIME_VALUE.fullmatch(value) is not None
    if qtype in ("select_multiple", "rank"):
        # A damaged draft may hold [None, 1] or [[]]: only a list of names is a value.
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if qtype == "acknowledge":
        return isinstance(value, str) and value == ACK
    return isinstance(value, str)


def to_json(value: object) -> object:
    """An answer as JSON: dates as ISO strings; repeats recursively."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value
