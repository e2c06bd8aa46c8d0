"""The language registry: its rows are sound, and a new row reaches every user of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel import Locale

from kiosk import form, i18n, languages
from kiosk.languages import LANGUAGES, Language
from kiosk.speech import numbers
from kiosk.speech.prepare import choices_prompt, prepare_text
from kiosk.speech.service import SpeechService
from sync.portal.storage import check_item_fields


def test_codes_are_unique_and_the_default_is_offered_to_citizens() -> None:
    assert len(set(languages.codes())) == len(LANGUAGES)
    assert languages.DEFAULT_LANG in languages.citizen_codes()
    assert "en" in languages.codes() and "en" not in languages.citizen_codes()


@pytest.mark.parametrize("row", LANGUAGES, ids=lambda row: row.code)
def test_every_row_can_be_shown_and_heard(row: Language) -> None:
    assert Locale.parse(row.babel)
    assert row.name and row.script in ("Latn", "Cyrl")
    assert row.form_codes and all(c == c.lower() and "_" not in c for c in row.form_codes)
    po, _ = i18n.catalog_paths(row.code)
    assert po.exists(), f"{row.code} has no catalog"
    assert languages.voices(row.code), f"{row.code} has no voice and no speech language"
    if row.speech is not None:
        assert languages.get(row.speech).voices, "a speech language has voices of its own"
    if row.citizen:
        assert numbers.words_for(row.code) is not None, f"{row.code} has no number words"


def test_only_a_language_without_a_voice_notes_the_other_voice() -> None:
    assert [languages.speaks_with_other_voice(c) for c in ("uz_Latn", "uz_Cyrl", "ru")] == [
        None,
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("column", "lang"),
    [("Uzbek (uz)", "uz_Latn"), ("(uz-Latn)", "uz_Latn"), ("Ўзбекча (uz-Cyrl)", "uz_Cyrl"),
     ("(uz_cyrl)", "uz_Cyrl"), ("Russian (RU)", "ru"), ("English (en)", "en"),
     ("German (de)", None), ("default", "default")],
)  # fmt: skip
def test_xlsform_columns_map_through_the_registry(column: str, lang: str | None) -> None:
    assert form.column_lang(column) == lang


def test_unknown_codes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown language 'de'"):
        languages.get("de")
    assert languages.from_form_code("de") is None
    assert languages.normalize("de-DE") is None


def test_a_new_row_is_a_kiosk_language(new_language: str) -> None:
    assert new_language in languages.codes() and new_language in languages.citizen_codes()
    assert i18n.check_lang(new_language) == new_language
    assert i18n.tr(new_language, "Next") == "Next"  # no catalog yet: the msgid
    assert languages.normalize("XX-Latn") == new_language
    assert form.column_lang("Xxish (xx)") == new_language
    # Form texts it lacks come from the other languages, in registry order.
    assert form.pick_text({"ru": "Далее", "uz_Latn": "Keyingi"}, new_language) == "Keyingi"


def test_a_new_row_without_a_voice_speaks_through_its_speech_language(
    new_language: str, tmp_path: Path
) -> None:
    assert languages.speaks_with_other_voice(new_language) == "uz_Latn"
    assert languages.voices(new_language) == languages.voices("uz_Latn")
    assert numbers.cardinal(2024, new_language) == numbers.cardinal(2024, "uz_Latn")
    assert numbers.amount("1500000", new_language) == "bir million besh yuz ming so'm"
    text = "Toʻlov 150 000 soʻm, 5-mart 2024-yil"
    assert prepare_text(text, new_language) == prepare_text(text, "uz_Latn")
    assert prepare_text("K7M4QXPR", new_language, "code") == prepare_text(
        "K7M4QXPR", "uz_Latn", "code"
    )
    assert choices_prompt(["Ha", "Yo'q"], new_language) == "Bir: Ha. Ikki: Yo'q."
    service = SpeechService(tmp_path / "cache", enabled=False, engines=("festival-9000",))
    try:
        assert service.voice(new_language) == service.voice("uz_Latn")
    finally:
        service.close()


def test_english_has_no_number_words_and_is_read_as_written() -> None:
    assert numbers.words_for("en") is None
    assert choices_prompt(["Yes", "No"], "en") == "1: Yes. 2: No."


def test_the_portal_accepts_exactly_the_registered_languages(new_language: str) -> None:
    item = {
        "payload": {},
        "tracking_code": "K7M4QXPR",
        "form_id": "f",
        "form_version": "1",
        "lang": new_language,
        "content_hash": "0" * 64,
        "created_at": "2026-03-21T09:30:00+00:00",
    }
    assert check_item_fields(item) is None
    problem = check_item_fields({**item, "lang": "de"})
    assert problem is not None and problem[0] == "item.lang"
    assert new_language in problem[1]["accepted"].split(", ")
