"""XPath 1.0 value coercions over answers held as Python values.

Answers are ``None`` (no answer, which behaves as XPath's empty string), ``str``,
``int``/``float``, ``bool``, ``datetime.date``/``datetime.datetime``, and ``list``
(select_multiple choices, or a repeat child's values seen from outside the repeat).
Dates count as days since 1970-01-01 wherever a number is needed, as in ODK.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

EPOCH = date(1970, 1, 1)
_EPOCH_DT = datetime(1970, 1, 1)
_XPATH_NUMBER = re.compile(r"\s*-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*")
_ISO_DATE = re.compile(r"\s*(\d{4}-\d{2}-\d{2})\s*")
_ISO_DATETIME = re.compile(r"\s*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*")
# Integral floats up to this size come back as int, so `int()` and display agree.
_EXACT_INT = 2**53


def to_bool(v: object) -> bool:
    """XPath boolean(): non-zero numbers, non-empty strings and lists are true."""
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return v != 0 and not math.isnan(v)
    if isinstance(v, str | list | tuple):
        return len(v) > 0
    return True


def date_to_days(d: date) -> float:
    """Days since 1970-01-01; a datetime gives a fraction of a day."""
    if isinstance(d, datetime):
        return (d.replace(tzinfo=None) - _EPOCH_DT).total_seconds() / 86400
    return float((d - EPOCH).days)


def parse_iso(s: str) -> date | None:
    """``YYYY-MM-DD`` to a date, ``YYYY-MM-DDTHH:MM[:SS]`` to a datetime, else None."""
    try:
        if m := _ISO_DATE.fullmatch(s):
            return date.fromisoformat(m.group(1))
        if m := _ISO_DATETIME.fullmatch(s):
            return datetime.fromisoformat(m.group(1))
    except ValueError:  # 2023-02-30 and the like
        return None
    return None


def to_number(v: object) -> float:
    """XPath number(): NaN for anything that is not a number; dates become days."""
    if v is None:
        return math.nan
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, int):
        try:
            return float(v)
        except OverflowError:
            return math.inf if v > 0 else -math.inf
    if isinstance(v, float):
        return v
    if isinstance(v, date):
        return date_to_days(v)
    if isinstance(v, str):
        if _XPATH_NUMBER.fullmatch(v):
            return float(v)
        d = parse_iso(v)
        return date_to_days(d) if d is not None else math.nan
    if isinstance(v, list | tuple):
        return to_number(to_string(v))
    return math.nan


def number_to_string(x: float) -> str:
    """XPath string() of a number: no exponent, no trailing ``.0``."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == int(x):
        return str(int(x))
    return format(Decimal(repr(x)), "f")


def to_string(v: object) -> str:
    """XPath string(); a list (select_multiple) is its space-separated items."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return number_to_string(v)
    if isinstance(v, datetime):
        return v.isoformat(timespec="seconds")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, list | tuple):
        return " ".join(to_string(x) for x in v if not isinstance(x, dict))
    if isinstance(v, dict):
        return ""
    return str(v)


def tidy_number(x: float) -> int | float:
    """An integral, exactly representable result as int (``5``, not ``5.0``)."""
    if isinstance(x, int) and not isinstance(x, bool):
        return x
    if math.isfinite(x) and x == int(x) and abs(x) < _EXACT_INT:
        return int(x)
    return x


def to_date(v: object) -> date | None:
    """A date from a date, an ISO string or a number of days; None when there is none."""
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        if not v.strip():
            return None
        d = parse_iso(v)
        if d is not None:
            return d
        if not _XPATH_NUMBER.fullmatch(v):
            return None
    if isinstance(v, list | tuple):
        return to_date(to_string(v))
    if v is None:
        return None
    days = to_number(v)
    if not math.isfinite(days):
        return None
    try:
        moment = _EPOCH_DT + timedelta(days=days)
    except OverflowError:
        return None
    return moment.date() if days == int(days) else moment


def as_items(v: object) -> list[str]:
    """The chosen items of a select_multiple: a list, or a space-separated string."""
    if v is None:
        return []
    if isinstance(v, list | tuple):
        return [to_string(x) for x in v if to_string(x) != ""]
    return to_string(v).split()


def as_nodes(v: object) -> list[object]:
    """A repeat child's values seen from outside (a list), or one value, as a node list."""
    if v is None:
        return []
    if isinstance(v, list | tuple):
        return list(v)
    return [v]
