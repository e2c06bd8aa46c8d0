"""UI strings through gettext catalogs in locales/ (compiled by the setup with pybabel).

Usage everywhere: ``tr(lang, "Next")`` and ``ntr(lang, "{n} item", "{n} items", n)``.
Message ids are English; there is a catalog per language of kiosk.languages.
pybabel extracts with ``-k tr:2 -k ntr:2,3 -k N_`` (``scripts/i18n all`` does it all;
see locales/README.md).

Catalogs load from ``locales/<lang>/LC_MESSAGES/kiosk.mo``. When that file is missing
or older than its ``.po`` (a fresh checkout, or a translator's edit not yet compiled),
the ``.po`` is compiled in memory with Babel instead, so the kiosk never shows English
to a citizen just because the setup step was skipped. A uz_Cyrl message nobody has
translated yet is shown as the transliterated uz_Latn one.
"""

from __future__ import annotations

import gettext
import io
import logging
import re
import threading
from functools import cache
from pathlib import Path

from kiosk import languages

LANGS: tuple[str, ...] = languages.codes()
CITIZEN_LANGS: tuple[str, ...] = languages.citizen_codes()
DEFAULT_LANG = languages.DEFAULT_LANG
DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locales"

log = logging.getLogger(__name__)
_lock = threading.Lock()

# What stays Latin when a uz_Latn message is shown in Cyrillic: placeholders ({name},
# ${field}), markup tags, URLs, command lines, options, file names, codes like
# AA1234567 and the technical acronyms people read in Latin on any keyboard.
_COMMANDS = "enroll|sync|submit|queue|audit|operator|district|say|translit|catalog|portal|run|demo"
_PROTECTED = re.compile(
    r"\$?\{[^{}]*\}"
    r"|\[/?[A-Za-z@#$][^\[\]]*\]"
    r"|\S+://\S*"
    rf"|\bkiosk (?:{_COMMANDS}|export-bundle|import-bundle)\b(?: [a-z][a-z-]*)?"
    r"|(?<![^\s(])--?[a-z][\w-]*"
    r"|\.(?:wav|json|csv|md|xlsx?|db|gz)\b"
    r"|\b[A-Z]{2}\d+\b"
    r"|\b[A-Za-z]+_[\w]+"  # identifiers: form_id, choice_filter
    r"|\b[A-Za-z]*(?:[Cc](?![Hh])|[Ww])[A-Za-z]*\b"  # English words (c, w are not Uzbek)
    r"|\b(?:HTTPS?|JSON|URL|QR|PIN|ID|id|CSV|SQLite|UUID|USB|API|espeak-ng)\b"
    r"|\b(?:XLSForm|pyxform)|\b(?:survey|settings|choices|version|label|hint|type)\b"
)


def check_lang(lang: str) -> str:
    return languages.get(lang).code


def normalize_lang(code: str | None) -> str | None:
    """A kiosk language from a tag people or files use: ``uz``, ``uz-Cyrl``, ``ru_RU``..."""
    return languages.normalize(code)


def catalog_paths(lang: str) -> tuple[Path, Path]:
    """(.po, .mo) of ``lang``'s catalog."""
    base = LOCALE_DIR / lang / "LC_MESSAGES" / DOMAIN
    return base.with_suffix(".po"), base.with_suffix(".mo")


def compile_po(po_path: Path) -> bytes:
    """The .mo bytes of a .po file (fuzzy entries left out, as pybabel compile does)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=None, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    return buf.getvalue()


def _load_catalog(lang: str) -> gettext.NullTranslations | None:
    """The compiled catalog, else the .po compiled in memory, else None."""
    po, mo = catalog_paths(lang)
    try:
        if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
            with mo.open("rb") as fh:
                return gettext.GNUTranslations(fh)
        if po.exists():
            return gettext.GNUTranslations(io.BytesIO(compile_po(po)))
    except Exception:  # a broken catalog must not take the kiosk down
        log.exception("cannot load the %s catalog; showing English", lang)
    return None


def cyrillic_message(text: str) -> str:
    """uz_Latn message text in Cyrillic, leaving placeholders and markup as they are."""
    from kiosk.translit import to_cyrillic

    out: list[str] = []
    pos = 0
    for m in _PROTECTED.finditer(text):
        out.append(to_cyrillic(text[pos : m.start()]))
        out.append(m.group())
        pos = m.end()
    out.append(to_cyrillic(text[pos:]))
    return "".join(out)


class _TranslitFallback(gettext.NullTranslations):
    """uz_Cyrl fallback: the uz_Latn translation, transliterated."""

    def __init__(self, latin: gettext.NullTranslations) -> None:
        super().__init__()
        self._latin = latin

    def gettext(self, message: str) -> str:
        text = self._latin.gettext(message)
        return message if text is message else cyrillic_message(text)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        text = self._latin.ngettext(msgid1, msgid2, n)
        return text if text in (msgid1, msgid2) else cyrillic_message(text)


@cache
def translation(lang: str) -> gettext.NullTranslations:
    """The cached translations of ``lang``; English (the msgids) when none exist."""
    check_lang(lang)
    with _lock:
        trans = _load_catalog(lang) or gettext.NullTranslations()
        if lang == "uz_Cyrl":
            latin = _load_catalog("uz_Latn")
            if latin is not None:
                trans.add_fallback(_TranslitFallback(latin))
        return trans


def reload() -> None:
    """Forget cached catalogs (after `scripts/i18n compile`, or in tests)."""
    translation.cache_clear()


def _format(text: str, fallback: str, kwargs: dict[str, object]) -> str:
    # A translator's typo in a placeholder must not crash a screen: use the msgid.
    try:
        return text.format(**kwargs)
    except (KeyError, IndexError, ValueError, AttributeError):
        log.warning("bad placeholder in translation %r", text)
        try:
            return fallback.format(**kwargs)
        except (KeyError, IndexError, ValueError, AttributeError):
            return text


def tr(lang: str, msgid: str, /, **kwargs: object) -> str:
    """``msgid`` in ``lang``, with ``{placeholders}`` filled from ``kwargs``."""
    text = translation(lang).gettext(msgid)
    return _format(text, msgid, kwargs) if kwargs else text


def ntr(lang: str, singular: str, plural: str, n: int, /, **kwargs: object) -> str:
    """The plural form of ``lang`` for ``n``; ``{n}`` is always available."""
    text = translation(lang).ngettext(singular, plural, n)
    return _format(text, singular if n == 1 else plural, {"n": n, **kwargs})


def tr_all(
    msgid: str, /, langs: tuple[str, ...] = CITIZEN_LANGS, **kwargs: object
) -> dict[str, str]:
    """``msgid`` in each language (e.g. a notice printed in every citizen language)."""
    return {lang: tr(lang, msgid, **kwargs) for lang in langs}


def N_(msgid: str) -> str:
    """Marks a string for extraction where it is translated later (module constants)."""
    return msgid
