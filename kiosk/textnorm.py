"""Normalising what citizens type, before it is validated, saved or spoken.

Uzbek Latin writes oʻ and gʻ with U+02BB (MODIFIER LETTER TURNED COMMA) and the
tutuq belgisi (maʼlumot, sanʼat) with U+02BC (MODIFIER LETTER APOSTROPHE), but people
type any of ' ` ‘ ’ ´ ʻ ʼ. Folding them to one form per letter makes answers
comparable and lets speech read oʻ as a letter rather than spell an apostrophe.

`escape_unprintable` is the other direction: text from outside shown on a terminal,
never obeyed.
"""

from __future__ import annotations

import re
import unicodedata

OKINA = "\u02bb"  # ʻ after o/O and g/G
TUTUQ = "\u02bc"  # ʼ elsewhere inside a word
APOSTROPHES = "'`\u2018\u2019\u00b4\u02bb\u02bc"

# An apostrophe variant after o/g (Latin) is the letter oʻ/gʻ, even at a word's end
# (bogʻ, togʻ). After another Latin letter and before a letter it is the tutuq
# (maʼlumot). Anything else (quotation marks, apostrophes in Cyrillic text) is kept.
_OG = re.compile(f"(?<=[oOgG])[{APOSTROPHES}]")
_TUTUQ = re.compile(f"(?<=[A-FH-NP-Za-fh-np-z])[{APOSTROPHES}](?=[^\\W\\d_])")

_NEWLINES = re.compile(r"\r\n|[\n\r\v\f\x85\u2028\u2029]")
_SPACES = re.compile(r"[^\S\n]+")  # any whitespace but a newline
_BLANK_LINES = re.compile(r"\n{3,}")
# Cc controls, Cf invisible format characters (zero-width, bidi overrides), Cs lone
# surrogates (which SQLite cannot store as UTF-8).
_DROP = {"Cc", "Cf", "Cs"}


def fold_apostrophes(s: str) -> str:
    """oʻ/gʻ with U+02BB, the tutuq with U+02BC: ``o'g'il`` -> ``oʻgʻil``."""
    return _TUTUQ.sub(TUTUQ, _OG.sub(OKINA, s))


def _drop_controls(s: str, keep: str) -> str:
    return "".join(ch for ch in s if ch in keep or unicodedata.category(ch) not in _DROP)


def _cut(s: str, max_len: int) -> str:
    """At most ``max_len`` characters, never leaving a combining mark without its base."""
    if len(s) <= max_len:
        return s
    end = max_len
    while end > 0 and unicodedata.combining(s[end]):
        end -= 1
    return s[:end]


def normalize_text(s: str, max_len: int = 1000, *, multiline: bool = False) -> str:
    """NFC, control characters out, apostrophes folded, whitespace collapsed and
    trimmed (newlines become spaces unless ``multiline``), at most ``max_len`` long.

    Idempotent: normalising a normalised text changes nothing.
    """
    if not isinstance(s, str) or max_len <= 0:
        return ""
    # Controls go before NFC: dropping one between a letter and its combining accent
    # would otherwise leave a decomposed pair, and normalising twice would differ.
    s = _drop_controls(s, keep="\r\n\t\v\f\x85")
    s = _NEWLINES.sub("\n" if multiline else " ", s)
    s = unicodedata.normalize("NFC", s)
    s = fold_apostrophes(s)
    if multiline:
        lines = (_SPACES.sub(" ", line).strip() for line in s.split("\n"))
        s = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    else:
        s = _SPACES.sub(" ", s).strip()
    return _cut(s, max_len).rstrip()


def escape_unprintable(s: str) -> str:
    """``s`` with anything unprintable (a control or bidi character, a lone surrogate, a
    terminal escape) written as ``\\u....``, so printing it shows it and obeys nothing."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in s)
