"""Search keys across scripts, case and apostrophe variants."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.search import matches, rank, score, search_key


@pytest.mark.parametrize(
    "group",
    [
        ["паспорт", "pasport", "ПАСПОРТ", "Pasport", "ПасПорт"],
        ["oʻqish", "o'qish", "o`qish", "o‘qish", "o’qish", "oʼqish", "ўқиш", "ЎҚИШ", "öqish"],
        ["gʻalaba", "g'alaba", "ғалаба", "ğalaba"],
        ["shahar", "шаҳар", "ŞAHAR", "Шахар"],
        ["ҳоким", "хоким", "hokim", "Xokim"],
        ["центр", "tsentr", "sentr"],
        ["поезд", "poyezd", "poezd"],
        ["maʼlumotnoma", "ma'lumotnoma", "маълумотнома", "malumotnoma"],
        ["Ўзбекистон", "Oʻzbekiston", "O'ZBEKISTON"],
    ],
)
def test_spellings_share_one_key(group: list[str]) -> None:
    keys = {search_key(text) for text in group}
    assert len(keys) == 1, dict(zip(group, map(search_key, group), strict=True))


def test_key_is_plain_lower_latin_words() -> None:
    assert search_key("  Tugʻilganlik  haqida — guvohnoma!  ") == "tugilganlik xaqida guvoxnoma"
    assert search_key("") == ""
    assert search_key("№ 12/3") == "no 12 3"  # NFKC: № is "No"


def test_different_words_keep_different_keys() -> None:
    assert search_key("pasport") != search_key("pensiya")
    assert search_key("shahar") != search_key("sahar")


def test_matches_every_word_somewhere() -> None:
    texts = ("Pasport olish", "Получение паспорта", "Documents")
    assert matches("пасп", *texts)
    assert matches("PASP OLI", *texts)
    assert matches("паспорт получение", *texts)
    assert matches("olish", "Паспорт олиш")  # Latin query, Cyrillic-only text
    assert not matches("nikoh", *texts)
    assert not matches("pasport nikoh", *texts)
    assert matches("", *texts)
    assert matches("   ", *texts)
    assert not matches("pasport")


def test_score_prefers_whole_words_and_starts() -> None:
    assert score("pasport", "Pasport") > score("pasport", "Pasportlar")
    assert score("pas", "Pasport") > score("pas", "Kompas")
    assert score("nikoh", "Pasport") == 0


def test_rank_orders_services() -> None:
    services = [
        ("kompas", ["Kompas sotib olish"]),
        ("new_passport", ["Yangi pasport olish", "Получение нового паспорта"]),
        ("passport", ["Pasport", "Паспорт"]),
        ("marriage", ["Nikohni roʻyxatdan oʻtkazish", "Регистрация брака"]),
    ]
    ranked = rank("пасп", services, lambda s: s[1])
    assert [s[0] for s in ranked] == ["passport", "new_passport"]
    assert [s[0] for s in rank("", services, lambda s: s[1])] == [s[0] for s in services]
    assert rank("брак", services, lambda s: s[1])[0][0] == "marriage"


@given(st.text(max_size=30))
def test_key_is_idempotent_plain_ascii(text: str) -> None:
    key = search_key(text)
    assert search_key(key) == key
    assert all(c.isascii() and (c.isalnum() or c == " ") for c in key), key
    assert matches(text, text)


@given(st.text(alphabet="tsyehcxoʻ'ЦцЕеҲҳХх ", max_size=12))
def test_key_is_idempotent_on_merged_letters(text: str) -> None:
    assert search_key(search_key(text)) == search_key(text)
