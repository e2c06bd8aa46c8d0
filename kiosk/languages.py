"""The kiosk's languages: one row each, read by everything that lists or maps languages.

The UI catalogs (kiosk.i18n), the XLSForm column mapping (kiosk.form), the voices and
spoken numbers (kiosk.speech), the language switch (screens) and the portal's accepted
submission languages (sync.portal) all come from ``LANGUAGES``. Adding a language is a
row here plus ``locales/<code>/LC_MESSAGES/kiosk.po`` (docs/ARCHITECTURE.md, "Adding a
language").

Speech: a language with voices of its own is read by them; one without names a
``speech`` language whose voice and number words read its text, and the screens say so
(``speaks_with_other_voice``). uz_Cyrl has its own (the Uzbek) voice but is read
through Latin, so it names uz_Latn as well without that note.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    """One kiosk language."""

    code: str  # catalogs, sessions and submissions: uz_Latn, ru
    name: str  # its own name for itself, on the language buttons
    script: str  # ISO 15924: Latn, Cyrl
    babel: str  # the CLDR locale of its dates, numbers and soʻm amounts
    form_codes: tuple[str, ...]  # XLSForm column codes, lower case: "Uzbek (uz)" -> uz
    voices: tuple[str, ...] = ()  # espeak-ng voices, best first; () = none of its own
    speech: str | None = None  # the language whose voice and number words read it
    citizen: bool = True  # offered to citizens (en is for developers and operators)


LANGUAGES: tuple[Language, ...] = (
    # espeak-ng 1.51 has an Uzbek voice (trk/uz); where an older one has none, Turkish
    # is the closest Latin-script Turkic voice.
    Language("uz_Latn", "O‘zbekcha", "Latn", "uz_Latn", ("uz", "uz-latn"), ("uz", "tr")),
    Language("uz_Cyrl", "Ўзбекча", "Cyrl", "uz_Cyrl", ("uz-cyrl",), ("uz", "tr"), "uz_Latn"),
    Language("ru", "Русский", "Cyrl", "ru", ("ru",), ("ru",)),
    Language("en", "English", "Latn", "en", ("en",), ("en", "en-us", "en-gb"), citizen=False),
    # Karakalpak: CLDR's kaa_Latn has no month names, so dates and sums follow Uzbek
    # Latin; no espeak-ng voice, so the Uzbek voice and number words read it.
    Language("kaa", "Qaraqalpaqsha", "Latn", "uz_Latn", ("kaa",), speech="uz_Latn"),
)
DEFAULT_LANG = "uz_Latn"


def codes() -> tuple[str, ...]:
    """Every registered language code, in registry order."""
    return tuple(row.code for row in LANGUAGES)


def citizen_codes() -> tuple[str, ...]:
    """The languages citizens can choose, in the order the screens offer them."""
    return tuple(row.code for row in LANGUAGES if row.citizen)


def get(code: str) -> Language:
    """The row of ``code``; ValueError names the known codes."""
    for row in LANGUAGES:
        if row.code == code:
            return row
    raise ValueError(f"unknown language {code!r}; expected one of {', '.join(codes())}")


def speech_lang(code: str) -> str:
    """The language whose number words and text rules read ``code`` aloud."""
    row = get(code)
    return row.speech or row.code


def voices(code: str) -> tuple[str, ...]:
    """The voices that read ``code``: its own, else its speech language's."""
    row = get(code)
    return row.voices or get(speech_lang(code)).voices


def speaks_with_other_voice(code: str) -> str | None:
    """The language whose voice reads ``code`` when it has none of its own, else None."""
    row = get(code)
    return row.speech if not row.voices and row.speech else None


def from_form_code(code: str) -> str | None:
    """A language from an XLSForm column code (``uz``, ``uz-Cyrl``, ``uz_cyrl``, ``ru``)."""
    wanted = code.strip().lower().replace("_", "-")
    return next((row.code for row in LANGUAGES if wanted in row.form_codes), None)


def normalize(tag: str | None) -> str | None:
    """A language from a tag people or files use: ``uz``, ``uz-Cyrl``, ``ru_RU``...

    The longest form code the tag starts with wins (``uz-cyrl`` before ``uz``).
    """
    if not tag:
        return None
    wanted = tag.strip().lower().replace("_", "-")
    known = sorted(
        ((c, row.code) for row in LANGUAGES for c in row.form_codes),
        key=lambda item: len(item[0]),
        reverse=True,
    )
    return next((lang for c, lang in known if wanted.startswith(c)), None)
