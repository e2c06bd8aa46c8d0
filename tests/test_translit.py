"""Uzbek Latin <-> Cyrillic on a curated set of real words, both directions."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.translit import fold_apostrophes, is_cyrillic, to_cyrillic, to_latin
from mahalla.cli import main

PAIRS_FILE = Path(__file__).parent / "data" / "translit_pairs.tsv"


def load_pairs() -> list[tuple[str, str]]:
    pairs = []
    for line in PAIRS_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            latin, cyrillic = line.split("\t")
            pairs.append((latin, cyrillic))
    return pairs


PAIRS = load_pairs()


def test_pair_file_is_large_and_clean() -> None:
    assert len(PAIRS) >= 100
    assert len({lat for lat, _ in PAIRS}) == len(PAIRS), "duplicate Latin entries"
    for lat, cyr in PAIRS:
        assert fold_apostrophes(lat) == lat, f"non-canonical apostrophe in {lat!r}"
        assert not is_cyrillic(lat) and is_cyrillic(cyr), (lat, cyr)


@pytest.mark.parametrize("direction", ["to_cyrillic", "to_latin"])
def test_accuracy_on_curated_pairs(direction: str) -> None:
    # Every pair documents one rule of the orthography (see the file's group headers),
    # so the bar is all of them: a miss is a regression, not noise.
    if direction == "to_cyrillic":
        results = [(lat, to_cyrillic(lat), cyr) for lat, cyr in PAIRS]
    else:
        results = [(cyr, to_latin(cyr), lat) for lat, cyr in PAIRS]
    wrong = [(src, got, want) for src, got, want in results if got != want]
    accuracy = 100 * (len(results) - len(wrong)) / len(results)
    print(f"\n{direction}: {len(results) - len(wrong)}/{len(results)} = {accuracy:.1f}%")
    assert not wrong, "\n".join(f"{s!r} -> {g!r}, expected {w!r}" for s, g, w in wrong)


@pytest.mark.parametrize("variant", ["o'qish", "o`qish", "o‘qish", "o’qish", "oʼqish", "oʻqish"])
def test_every_apostrophe_variant_of_o_and_g(variant: str) -> None:
    assert to_cyrillic(variant) == "ўқиш"
    assert to_cyrillic(variant.replace("o", "g").replace("qish", "alaba")) == "ғалаба"


@pytest.mark.parametrize("variant", ["ma'no", "ma`no", "ma’no", "maʻno", "ma‘no"])
def test_tutuq_belgisi_variants(variant: str) -> None:
    assert to_cyrillic(variant) == "маъно"


def test_case_patterns() -> None:
    assert to_cyrillic("SHAHAR") == "ШАҲАР"
    assert to_cyrillic("Shahar") == "Шаҳар"
    assert to_cyrillic("O'ZBEKISTON") == "ЎЗБЕКИСТОН"
    assert to_latin("ШАҲАР ЧИРОҚ") == "SHAHAR CHIROQ"
    assert to_latin("Шаҳар Чорвоқ") == "Shahar Chorvoq"
    assert to_latin("ЁШЛАР") == "YOSHLAR"
    assert to_latin("Ёшлар") == "Yoshlar"
    assert to_latin("ЦИРК") == "SIRK"


def test_sentences_keep_punctuation_digits_and_placeholders() -> None:
    text = "Ariza №12: ${full_name}, 2026-yil 1-sentabr! {n} ta «hujjat»."
    assert to_cyrillic(text) == "Ариза №12: ${full_name}, 2026-йил 1-сентябрь! {n} та «ҳужжат»."
    assert to_latin("Ариза №12: {n} та «ҳужжат».") == "Ariza №12: {n} ta «hujjat»."


def test_other_script_and_empty_text_pass_through() -> None:
    assert to_cyrillic("") == "" and to_latin("") == ""
    assert to_cyrillic("Ўзбекистон 123") == "Ўзбекистон 123"
    assert to_latin("Oʻzbekiston 123") == "Oʻzbekiston 123"


def test_suffixed_loanwords_keep_their_stem() -> None:
    assert to_cyrillic("sirkda") == "циркда"
    assert to_latin("циркда") == "sirkda"
    assert to_cyrillic("konsertga") == "концертга"
    assert to_cyrillic("sex") == "цех"
    assert to_cyrillic("sexi") == "сехи"  # "sex" (цех) is a whole-word loan only


UZ_LATIN = "abdefghijklmnopqrstuvxyzʻʼ'ABDEFGHIJKLMNOPQRSTUVXYZ -"
UZ_CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшъьэюяўқғҳАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЪЬЭЮЯЎҚҒҲ -"


@given(st.text(alphabet=UZ_LATIN, max_size=40))
def test_latin_text_leaves_no_latin_letter(text: str) -> None:
    out = to_cyrillic(text)
    assert not any(c.isascii() and c.isalpha() for c in out), (text, out)


@given(st.text(alphabet=UZ_CYRILLIC, max_size=40))
def test_cyrillic_text_leaves_no_cyrillic_letter(text: str) -> None:
    out = to_latin(text)
    assert not any("\u0400" <= c <= "\u04ff" for c in out), (text, out)


def test_cli_translit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["translit", "--to", "cyrl", "Oʻzbekiston", "sentabr"]) == 0
    assert capsys.readouterr().out == "Ўзбекистон сентябрь\n"
    assert main(["translit", "--to", "latn", "ЦИРК"]) == 0
    assert capsys.readouterr().out == "SIRK\n"
    # Without --to the target is the other script than the text's own.
    assert main(["translit", "Исҳоқ"]) == 0
    assert capsys.readouterr().out == "Isʼhoq\n"


def test_cli_translit_reads_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("oʻqish\ng'alaba\n"))
    assert main(["translit", "--to", "cyrl"]) == 0
    assert capsys.readouterr().out == "ўқиш\nғалаба\n"


def test_cli_translit_without_text_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("   \n"))
    assert main(["translit", "--lang", "ru"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip()
