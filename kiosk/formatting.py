"""Dates, numbers and soʻm amounts in the kiosk's languages, through Babel's CLDR data.

Everything a citizen reads as a number or a date goes through here, so that it follows
the session's language (uz_Latn "1-sentabr, 2026", ru "1 сентября 2026 г."). Grouping
uses CLDR's no-break space, which also keeps a sum from wrapping across lines.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Literal

from babel import Locale
from babel import dates as bdates
from babel import numbers as bnumbers
from babel import units as bunits

from kiosk import languages
from kiosk.i18n import N_, tr
from kiosk.translit import to_cyrillic

Style = Literal["short", "medium", "long", "full"]

CURRENCY = "UZS"
# CLDR has no Russian symbol for UZS and would print the ISO code "UZS", which a
# citizen does not read as money; "сум" is the last word of CLDR's own Russian name
# ("узбекский сум") and what Uzbek price tags in Russian say.
_SYMBOL_OVERRIDE: dict[str, str] = {"ru": "сум"}


@cache
def babel_locale(lang: str) -> Locale:
    """The Babel locale of a kiosk language (uz_Latn -> uz_Latn, ru -> ru)."""
    return Locale.parse(languages.get(lang).babel)


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip()[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _as_datetime(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return value


def format_date(d: dt.date | str, lang: str, style: Style = "long") -> str:
    """A date as the language writes it; ``d`` may be an ISO ``YYYY-MM-DD`` string."""
    return bdates.format_date(_as_date(d), format=style, locale=babel_locale(lang))


def format_datetime(moment: dt.datetime | str, lang: str, style: Style = "medium") -> str:
    """Date and time; an aware datetime (the store's UTC) is shown in local time."""
    value = _as_datetime(moment)
    if value.tzinfo is not None:
        value = value.astimezone()  # the kiosk's own zone, e.g. Asia/Tashkent
    return bdates.format_datetime(
        value, format=style, tzinfo=value.tzinfo, locale=babel_locale(lang)
    )


def format_time(moment: dt.datetime | dt.time, lang: str, style: Style = "short") -> str:
    """A time of day, e.g. "09:05"."""
    if isinstance(moment, dt.datetime) and moment.tzinfo is not None:
        moment = moment.astimezone()
    return bdates.format_time(moment, format=style, locale=babel_locale(lang))


def format_number(x: int | float | Decimal, lang: str) -> str:
    """A number with the language's grouping and decimal signs ("1 500 000,5")."""
    return bnumbers.format_decimal(x, locale=babel_locale(lang))


def _whole_soum(amount: int | float | Decimal | str) -> Decimal:
    try:
        value = Decimal(str(amount).strip().replace(" ", "").replace("\xa0", ""))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount of money: {amount!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not an amount of money: {amount!r}")
    return value.quantize(Decimal(1), rounding=ROUND_HALF_UP)


@cache
def _sum_pattern(lang: str) -> str:
    # The locale's own currency pattern with the decimals removed: UI sums are whole.
    pattern: str = babel_locale(lang).currency_formats["standard"].pattern
    return pattern.split(";")[0].replace("0.00", "0")


def format_sum(amount: int | float | Decimal | str, lang: str) -> str:
    """An amount in soʻm, whole: "1 500 000 soʻm", "1 500 000 сўм", "1 500 000 сум"."""
    text = bnumbers.format_currency(
        _whole_soum(amount),
        CURRENCY,
        format=_sum_pattern(lang),
        locale=babel_locale(lang),
        currency_digits=False,
    )
    override = _SYMBOL_OVERRIDE.get(lang)
    return text.replace(CURRENCY, override) if override else text


def format_relative(
    delta: dt.timedelta | dt.datetime, lang: str, *, now: dt.datetime | None = None
) -> str:
    """ "3 soat oldin" / "через 2 дня": a negative delta (or a past datetime) is ago."""
    if isinstance(delta, dt.datetime):
        ref = now or (dt.datetime.now(delta.tzinfo) if delta.tzinfo else dt.datetime.now())
        delta = delta - ref
    return bdates.format_timedelta(
        delta, add_direction=True, threshold=0.85, locale=babel_locale(lang)
    )


def month_names(lang: str, width: Literal["wide", "abbreviated"] = "wide") -> list[str]:
    """January..December as the language names them standing alone (for date pickers)."""
    months = babel_locale(lang).months["stand-alone"][width]
    return [months[i] for i in range(1, 13)]


def format_ago(moment: dt.datetime, now: dt.datetime, lang: str) -> str:
    """How long ago ``moment`` was, in ``lang`` through CLDR ("2 soat oldin", "2 часа
    назад"); a moment in the future (a clock set back) reads as now."""
    delta = min(moment - now, dt.timedelta(0))
    return bdates.format_timedelta(
        delta, add_direction=True, threshold=0.9, locale=babel_locale(lang)
    )


# The order of day, month and year a citizen types, in the letters of their language
# (uz_Latn "KK.OO.YYYY": kun, oy, yil; ru "ДД.ММ.ГГГГ"): the date's placeholder and the
# message of a date that does not parse say the same thing.
DATE_PATTERN = N_("DD.MM.YYYY")


def date_pattern(lang: str) -> str:
    """How a date is typed (day.month.year), spelt in ``lang``."""
    return tr(lang, DATE_PATTERN)


_SIZE_UNITS = (
    (1024**3, "digital-gigabyte"),
    (1024**2, "digital-megabyte"),
    (1024, "digital-kilobyte"),
)


def format_size(n_bytes: int, lang: str) -> str:
    """A size in bytes for people, in ``lang``'s words (CLDR units: "0 bayt", "1,5 МБ")."""
    value: float = max(0, n_bytes)
    unit = "digital-byte"
    for size, name in _SIZE_UNITS:
        if n_bytes >= size:
            value, unit = round(n_bytes / size, 1), name
            break
    if lang == "uz_Cyrl":  # CLDR's uz_Cyrl falls back to English ("byte"): spell uz_Latn's
        return to_cyrillic(bunits.format_unit(value, unit, length="short", locale="uz_Latn"))
    return bunits.format_unit(value, unit, length="short", locale=babel_locale(lang))
