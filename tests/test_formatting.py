"""kiosk.formatting against Babel's own CLDR output, for each kiosk language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from babel import dates, numbers

from kiosk import languages
from kiosk.formatting import (
    babel_locale,
    format_date,
    format_datetime,
    format_number,
    format_relative,
    format_sum,
    month_names,
)
from kiosk.i18n import LANGS

NBSP = "\xa0"
BABEL_IDS = {row.code: row.babel for row in languages.LANGUAGES}


def test_the_first_languages_use_their_own_locales() -> None:
    assert {c: BABEL_IDS[c] for c in ("uz_Latn", "uz_Cyrl", "ru", "en")} == {
        "uz_Latn": "uz_Latn",
        "uz_Cyrl": "uz_Cyrl",
        "ru": "ru",
        "en": "en",
    }


@pytest.mark.parametrize("lang", LANGS)
def test_locale_is_the_right_script(lang: str) -> None:
    loc = babel_locale(lang)
    assert str(loc) == BABEL_IDS[lang]
    if loc.script:  # ru, en: CLDR names no script, the language has one
        assert loc.script == languages.get(lang).script
    if lang.startswith("uz"):
        assert (loc.language, loc.script) == ("uz", lang[3:])


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("style", ["short", "medium", "long"])
def test_format_date_is_babels(lang: str, style: str) -> None:
    d = dt.date(2026, 9, 1)
    expected = dates.format_date(d, format=style, locale=BABEL_IDS[lang])
    assert format_date(d, lang, style) == expected  # type: ignore[arg-type]
    assert format_date("2026-09-01", lang, style) == expected  # type: ignore[arg-type]


def test_format_date_reads_as_each_language_writes_it() -> None:
    d = dt.date(2026, 9, 1)
    assert format_date(d, "uz_Latn") == "1-sentabr, 2026"
    assert format_date(d, "uz_Cyrl") == "1 сентябр, 2026"
    assert format_date(d, "ru") == "1 сентября 2026\u202fг."


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("x", [0, 7, 1234567, 1234.5, -42.125, Decimal("1500000.75")])
def test_format_number_is_babels(lang: str, x: float) -> None:
    assert format_number(x, lang) == numbers.format_decimal(x, locale=BABEL_IDS[lang])


def test_format_number_groups_with_cldr_signs() -> None:
    assert format_number(1500000.5, "uz_Latn") == f"1{NBSP}500{NBSP}000,5"
    assert format_number(1500000.5, "ru") == f"1{NBSP}500{NBSP}000,5"
    assert format_number(1500000.5, "en") == "1,500,000.5"


@pytest.mark.parametrize(
    ("lang", "symbol"), [("uz_Latn", "soʻm"), ("uz_Cyrl", "сўм"), ("ru", "сум")]
)
def test_format_sum_whole_soum(lang: str, symbol: str) -> None:
    assert format_sum(1500000, lang) == f"1{NBSP}500{NBSP}000{NBSP}{symbol}"
    assert format_sum("1499999.50", lang) == f"1{NBSP}500{NBSP}000{NBSP}{symbol}"
    assert format_sum(0, lang) == f"0{NBSP}{symbol}"


@pytest.mark.parametrize("lang", ["uz_Latn", "uz_Cyrl", "en"])
def test_format_sum_matches_babel_currency(lang: str) -> None:
    # Babel's own currency output for UZS, with the fraction digits dropped.
    pattern = babel_locale(lang).currency_formats["standard"].pattern.replace("0.00", "0")
    expected = numbers.format_currency(
        250000, "UZS", format=pattern, locale=BABEL_IDS[lang], currency_digits=False
    )
    assert format_sum(250000, lang) == expected
    assert numbers.get_currency_symbol("UZS", BABEL_IDS[lang]) in expected


def test_format_sum_russian_symbol_replaces_the_iso_code() -> None:
    # CLDR has no Russian symbol for UZS (it prints "UZS"); the kiosk says "сум".
    assert numbers.get_currency_symbol("UZS", "ru") == "UZS"
    assert "сум" in numbers.get_currency_name("UZS", locale="ru")
    assert format_sum(250000, "ru") == f"250{NBSP}000{NBSP}сум"


@pytest.mark.parametrize("bad", ["abc", "", "nan", float("inf")])
def test_format_sum_rejects_non_amounts(bad: object) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        format_sum(bad, "uz_Latn")  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", LANGS)
def test_format_datetime_is_babels(lang: str) -> None:
    naive = dt.datetime(2026, 11, 27, 9, 5)
    assert format_datetime(naive, lang) == dates.format_datetime(
        naive, format="medium", locale=BABEL_IDS[lang]
    )
    aware = dt.datetime(2026, 11, 27, 4, 5, tzinfo=dt.UTC)
    local = aware.astimezone()
    assert format_datetime(aware.isoformat(), lang) == dates.format_datetime(
        local, format="medium", tzinfo=local.tzinfo, locale=BABEL_IDS[lang]
    )


@pytest.mark.parametrize("lang", LANGS)
def test_format_relative_is_babels(lang: str) -> None:
    for delta in (dt.timedelta(hours=-3), dt.timedelta(days=2), dt.timedelta(minutes=-1)):
        assert format_relative(delta, lang) == dates.format_timedelta(
            delta, add_direction=True, threshold=0.85, locale=BABEL_IDS[lang]
        )


def test_format_relative_words() -> None:
    ago = dt.timedelta(hours=-3)
    assert format_relative(ago, "uz_Latn") == "3 soat oldin"
    assert format_relative(ago, "uz_Cyrl") == "3 соат олдин"
    assert format_relative(ago, "ru") == "3 часа назад"
    assert format_relative(ago, "en") == "3 hours ago"
    now = dt.datetime(2026, 11, 27, 12, 0)
    assert format_relative(dt.datetime(2026, 11, 27, 9, 0), "en", now=now) == "3 hours ago"


def test_month_names() -> None:
    assert month_names("uz_Latn")[0] == "Yanvar"
    assert month_names("ru")[8] == "сентябрь"
    assert len(month_names("uz_Cyrl", "abbreviated")) == 12


def test_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown language"):
        format_number(1, "de")
