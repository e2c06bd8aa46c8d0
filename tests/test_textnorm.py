"""Normalising typed text: NFC, controls, whitespace, length, Uzbek apostrophes."""

from __future__ import annotations

import unicodedata

import pytest

from kiosk.textnorm import OKINA, TUTUQ, fold_apostrophes, normalize_text


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("o'g'il", "oʻgʻil"),
        ("ma'lumot", "maʼlumot"),
        ("O`zbekiston", "Oʻzbekiston"),
        ("O‘zbekiston", "Oʻzbekiston"),
        ("o’qituvchi", "oʻqituvchi"),
        ("G'ALABA", "GʻALABA"),
        ("bog'", "bogʻ"),  # gʻ at the end of a word
        ("tog´", "togʻ"),
        ("san'at", "sanʼat"),
        ("e'lon", "eʼlon"),
        ("mas`uliyat", "masʼuliyat"),
        ("taʻlim", "taʼlim"),  # U+02BB where the tutuq belongs
        ("oʼrta", "oʻrta"),  # U+02BC where oʻ belongs
        ("Qo'qon va Farg'ona", "Qoʻqon va Fargʻona"),
        ("oʻgʻil", "oʻgʻil"),  # already canonical
        ("maʼlumot", "maʼlumot"),
    ],
)
def test_fold_apostrophes(typed: str, folded: str) -> None:
    assert fold_apostrophes(typed) == folded
    assert normalize_text(typed) == folded


@pytest.mark.parametrize(
    "text",
    [
        "санъат ва маълумот",  # Cyrillic: ъ is the tutuq, nothing to fold
        "Ўзбекистон ғалаба",
        "маъ'лумот",  # an apostrophe inside Cyrillic text is left alone
        "'Salom'",  # quotation marks around a word stay quotation marks
        "it is 5' long",
        "Москва, ул. Ленина",
    ],
)
def test_text_without_uzbek_apostrophes_is_untouched(text: str) -> None:
    assert fold_apostrophes(text) == text


def test_canonical_code_points() -> None:
    assert OKINA == "\u02bb" and TUTUQ == "\u02bc"
    assert fold_apostrophes("o'") == "o\u02bb"
    assert fold_apostrophes("a'b") == "a\u02bcb"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Dilnoza   Karimova  ", "Dilnoza Karimova"),
        ("a\tb", "a b"),
        ("line one\nline two", "line one line two"),
        ("a\r\n\r\nb", "a b"),
        ("nul\x00byte", "nulbyte"),
        ("bell\x07", "bell"),
        ("zero\u200bwidth", "zerowidth"),
        ("\ufeffbom", "bom"),
        ("evil\u202eetxt.exe", "eviletxt.exe"),
        ("non\u00a0breaking", "non breaking"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize_text_cleans(raw: str, clean: str) -> None:
    assert normalize_text(raw) == clean


def test_normalize_text_is_nfc() -> None:
    decomposed = "Qarshi\u0306 e\u0301"  # a combining breve and acute accent
    result = normalize_text(decomposed)
    assert result == unicodedata.normalize("NFC", decomposed)
    assert "é" in result
    assert normalize_text("\u0439") == "й"
    assert normalize_text("\u0438\u0306") == "й"


def test_a_control_between_letter_and_accent_does_not_break_nfc() -> None:
    assert normalize_text("e\x00\u0301") == "é"
    assert normalize_text(normalize_text("e\x00\u0301")) == "é"


def test_lone_surrogates_are_removed() -> None:
    assert normalize_text("a\ud800b") == "ab"
    normalize_text("a\ud800b").encode("utf-8")


def test_length_is_bounded() -> None:
    assert normalize_text("x" * 5000) == "x" * 1000
    assert normalize_text("abcdef", max_len=3) == "abc"
    assert normalize_text("ab cdef", max_len=3) == "ab"  # no trailing space after the cut
    assert normalize_text("abc", max_len=0) == ""


def test_cut_never_strands_a_combining_mark() -> None:
    # "ё" as e + U+0308 has no precomposed form after a Latin letter such as "q̈".
    s = "ab" + "q\u0308"
    result = normalize_text(s, max_len=3)
    assert result == "ab"


def test_multiline_keeps_lines() -> None:
    raw = "  first   line \r\nsecond\n\n\n\n\nthird\x00 \n"
    assert normalize_text(raw, multiline=True) == "first line\nsecond\n\nthird"


def test_non_text_gives_empty() -> None:
    assert normalize_text(None) == ""  # type: ignore[arg-type]
    assert normalize_text(42) == ""  # type: ignore[arg-type]


def test_idempotent_examples() -> None:
    for raw in ["o'g'il  ma'lumot", " a\n b ", "x" * 2000, "'Salom'", "e\u0301" * 600]:
        once = normalize_text(raw)
        assert normalize_text(once) == once
