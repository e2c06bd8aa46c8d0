"""UI strings through gettext catalogs in locales/ (compiled by the setup with pybabel).

Usage everywhere: ``tr(lang, "Next")`` and ``ntr(lang, "{n} item", "{n} items", n)``.
Message ids are English; the catalogs carry uz_Latn, uz_Cyrl, ru and en.
pybabel extracts with ``-k tr:2 -k ntr:2,3 -k N_``.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

LANGS: tuple[str, ...] = ("uz_Latn", "uz_Cyrl", "ru", "en")
CITIZEN_LANGS: tuple[str, ...] = ("uz_Latn", "uz_Cyrl", "ru")
DEFAULT_LANG = "uz_Latn"
DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locales"

# Each language's own name for itself, shown on the language buttons.
LANG_NAMES: dict[str, str] = {
    "uz_Latn": "O‘zbekcha",
    "uz_Cyrl": "Ўзбекча",
    "ru": "Русский",
    "en": "English",
}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}")
    return lang


@cache
def translation(lang: str) -> gettext.NullTranslations:
    check_lang(lang)
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang], fallback=True)


def tr(lang: str, msgid: str, /, **kwargs: object) -> str:
    text = translation(lang).gettext(msgid)
    return text.format(**kwargs) if kwargs else text


def ntr(lang: str, singular: str, plural: str, n: int, /, **kwargs: object) -> str:
    text = translation(lang).ngettext(singular, plural, n)
    return text.format(n=n, **kwargs)


def N_(msgid: str) -> str:
    """Marks a string for extraction where it is translated later (module constants)."""
    return msgid
