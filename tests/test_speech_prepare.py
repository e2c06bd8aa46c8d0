"""Text prepared for the ear: apostrophes, numbers as words, codes, abbreviations.

Where a rule exists because of how espeak-ng reads text, the test asks espeak-ng
itself (``-q -x`` prints the phonemes it would say, no audio).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk import tracking
from kiosk.speech import choices_prompt, code_prompt, prepare_text

APOSTROPHE_VARIANTS = ("\u02bb", "\u02bc", "'", "`", "\u2018", "\u2019")
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")


def phonemes(text: str, voice: str) -> str:
    done = subprocess.run(
        ["espeak-ng", "-v", voice, "-q", "-x", "-b", "1", "--stdin"],
        input=text.encode(),
        capture_output=True,
        check=True,
        timeout=30,
    )
    return done.stdout.decode()


@pytest.mark.parametrize("mark", APOSTROPHE_VARIANTS)
def test_every_apostrophe_variant_becomes_the_one_espeak_reads(mark: str) -> None:
    text = f"O{mark}zbekiston, ma{mark}lumot, yo{mark}q, G{mark}ulom"
    assert prepare_text(text, "uz_Latn") == "O'zbekiston, ma'lumot, yo'q, G'ulom"


@needs_espeak
def test_the_chosen_apostrophe_is_not_spelled_while_u02bc_is() -> None:
    # Raw U+02BC makes the Uzbek voice switch to English to name the character.
    assert "(en)" in phonemes("yo\u02bcq", "uz")
    for mark in APOSTROPHE_VARIANTS:
        said = phonemes(prepare_text(f"yo{mark}q ma{mark}lumot", "uz_Latn"), "uz")
        assert "(en)" not in said
        assert said.split()[0] == "j'oq"  # yoʻq, with the vowel oʻ


@needs_espeak
def test_cyrillic_uzbek_is_read_through_latin_so_sh_is_not_lost() -> None:
    prepared = prepare_text("Тошкент шаҳри, маълумот", "uz_Cyrl")
    assert prepared == "Toshkent shahri, ma'lumot"
    said = phonemes(prepared, "uz")
    assert "S" in said.split()[0]  # ш -> sh (S), where the raw Cyrillic gives s
    assert "(en)" not in said


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("Toʻlov: 1 500 000 soʻm", "To'lov: bir million besh yuz ming so'm"),
        ("1500000 so'm", "bir million besh yuz ming so'm"),
        ("1\u00a0500\u00a0000 soʻm", "bir million besh yuz ming so'm"),
        ("1,5 mln soʻm", "bir million besh yuz ming so'm"),
        ("Narxi 250 000 UZS", "Narxi ikki yuz ellik ming so'm"),
        ("2024-yil 5-mart", "ikki ming yigirma to'rtinchi yil beshinchi mart"),
        ("05.03.2024", "ikki ming yigirma to'rtinchi yil beshinchi mart"),
        ("2024-03-05", "ikki ming yigirma to'rtinchi yil beshinchi mart"),
        ("3-uy, 25 yosh", "uchinchi uy, yigirma besh yosh"),
        ("50% chegirma", "ellik foiz chegirma"),
        ("Soat 9:05 da", "Soat to'qqiz nol besh da"),
        ("Arizangiz №5", "Arizangiz raqam besh"),
    ],
)
def test_uzbek_amounts_dates_and_numbers_become_words(text: str, spoken: str) -> None:
    assert prepare_text(text, "uz_Latn") == spoken


def test_uzbek_cyrillic_amounts_and_dates() -> None:
    assert prepare_text("150 000 сўм, 5-март 2024-йил", "uz_Cyrl") == (
        "yuz ellik ming so'm, beshinchi mart ikki ming yigirma to'rtinchi yil"
    )


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("Сумма: 1 500 000 сум", "Сумма: один миллион пятьсот тысяч сумов"),
        ("2 сума", "два сума"),
        ("21 сум", "двадцать один сум"),
        ("1,5 млн сумов", "один миллион пятьсот тысяч сумов"),
        ("5 марта 2024 года", "пятое марта две тысячи двадцать четвёртого года"),
        ("до 5 марта 2024 г.", "до пятого марта две тысячи двадцать четвёртого года"),
        ("к 10 апреля", "к десятому апреля"),
        ("в 2024 году", "в две тысячи двадцать четвёртом году"),
        ("05.03.2024", "пятое марта две тысячи двадцать четвёртого года"),
        ("5-й этаж, 2-я улица", "пятый этаж, вторая улица"),
        ("25%", "двадцать пять процентов"),
        ("1%", "один процент"),
    ],
)
def test_russian_amounts_and_dates_decline(text: str, spoken: str) -> None:
    assert prepare_text(text, "ru") == spoken


@pytest.mark.parametrize(
    ("text", "lang", "spoken"),
    [
        ("т.е. г. Ташкент, ул. Навои, д. 5, кв. 12", "ru", None),
        ("ФИО", "ru", "фамилия, имя, отчество"),
        ("ID-карта", "ru", "ай-ди-карта"),
        ("ID karta", "uz_Latn", "ay-di karta"),
        ("FHDYo", "uz_Latn", "fuqarolik holati dalolatnomalarini yozish"),
        ("JShShIR", "uz_Latn", "jismoniy shaxsning shaxsiy identifikatsiya raqami"),
        ("F.I.Sh.", "uz_Latn", "familiya, ism, sharif"),
    ],
)
def test_abbreviations_are_expanded(text: str, lang: str, spoken: str | None) -> None:
    expected = spoken or "то есть город Ташкент, улица Навои, дом пять, квартира двенадцать"
    assert prepare_text(text, lang) == expected


def test_abbreviations_inside_words_are_left_alone() -> None:
    assert prepare_text("IDEAL", "uz_Latn") == "IDEAL"
    assert prepare_text("гид", "ru") == "гид"


def test_tracking_code_is_read_character_by_character_in_groups() -> None:
    assert code_prompt("K7M-4QXP-R", "uz_Latn") == "K, yetti, M. to'rt, Q, X, P. R"
    # The Russian voice would name Latin letters in English: they get Russian names.
    assert code_prompt("K7M-4QXP-R", "ru") == "ка, семь, эм. четыре, ку, икс, пэ. эр"
    assert prepare_text("K7M-4QXP-R", "uz_Cyrl", kind="code") == code_prompt(
        "K7M-4QXP-R", "uz_Latn"
    )


def test_codes_and_identifiers_inside_sentences_are_spelled() -> None:
    assert prepare_text("Kodingiz: K7M-4QXP-R.", "uz_Latn") == (
        "Kodingiz: K, yetti, M. to'rt, Q, X, P. R."
    )
    assert prepare_text("Ваш код: K7M-4QXP-R", "ru") == (
        "Ваш код: ка, семь, эм. четыре, ку, икс, пэ. эр"
    )
    # Nine or more ungrouped digits are an identifier (PINFL, phone), not a quantity.
    assert prepare_text("PINFL 31205851234567", "uz_Latn").startswith("PINFL uch, bir, ikki. nol")
    assert prepare_text("Aholisi 1500000 kishi", "uz_Latn") == (
        "Aholisi bir million besh yuz ming kishi"
    )


def test_a_tracking_code_is_heard_in_the_groups_the_receipt_shows() -> None:
    code = tracking.sequential_code("K7M", 12345)
    assert "-" not in code
    heard_groups = code_prompt(code, "uz_Latn").split(". ")
    shown_groups = tracking.format_code(code).split("-")
    assert [len(g.split(", ")) for g in heard_groups] == [len(g) for g in shown_groups]
    # Any long unbroken code is heard in fours rather than as one breathless run.
    assert code_prompt("ABCDEFGHJK", "uz_Latn") == "A, B, C, D. E, F, G, H. J, K"


def test_pinfl_is_read_back_in_groups_of_digits() -> None:
    spoken = code_prompt("31205851234567", "uz_Latn")
    groups = spoken.split(". ")
    assert [len(g.split(", ")) for g in groups] == [3, 3, 3, 3, 2]
    assert groups[0] == "uch, bir, ikki"
    assert code_prompt("AA1234567", "ru").split(". ")[0] == "а, а"


@needs_espeak
def test_numbers_are_words_so_the_uzbek_voice_does_not_read_digits() -> None:
    raw = phonemes("2024", "uz")
    said = phonemes(prepare_text("2024-yil", "uz_Latn"), "uz")
    assert "n'o:L" in raw  # digit by digit: "ikki nol ikki to'rt"
    assert "n'o:L" not in said and "m'yN" in said  # "ikki ming ..."


def test_choices_prompt_numbers_the_choices_in_words() -> None:
    assert choices_prompt(["Ha", "Yoʻq"], "uz_Latn") == "Bir: Ha. Ikki: Yo'q."
    assert choices_prompt(["Да", "Нет."], "ru") == "Один: Да. Два: Нет."
    assert choices_prompt(["Ҳа", "Йўқ"], "uz_Cyrl") == "Bir: Ha. Ikki: Yo'q."


def test_empty_or_blank_text_gives_nothing_to_say() -> None:
    for lang in ("uz_Latn", "uz_Cyrl", "ru"):
        assert prepare_text("", lang) == ""
        assert prepare_text(" \n\t ", lang) == ""


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        prepare_text("x", "ru", kind="poem")


_texts = st.text(
    alphabet=st.sampled_from(list("0123456789 .,-:%/abcyoʻʼ'`‘’шқўмсумгод№ID\u00a0")),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(text=_texts, lang=st.sampled_from(["uz_Latn", "uz_Cyrl", "ru"]))
def test_any_text_prepares_without_error_and_leaves_no_digits(text: str, lang: str) -> None:
    spoken = prepare_text(text, lang)
    assert not re.search(r"\d", spoken), spoken
    assert prepare_text(spoken, lang) == spoken  # idempotent: safe to prepare twice


@settings(max_examples=200, deadline=None)
@given(code=st.text(alphabet="ABCKMPQRX0123456789-", min_size=1, max_size=20))
def test_any_code_is_spelled_without_digits(code: str) -> None:
    for lang in ("uz_Latn", "ru"):
        assert not re.search(r"\d", code_prompt(code, lang))
