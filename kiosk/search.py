"""Search that ignores script, case and apostrophes: "паспорт" finds "Pasport".

Every text is reduced to a key in one loose Latin spelling: Uzbek and Russian Cyrillic
transliterated, apostrophes dropped (oʻ = o' = o), diacritics folded (ö = o, ş = sh),
and the spellings that differ between Uzbek and Russian habits merged (ts = s as in
ц, ye = e, h = x as in ҳоким/хоким). Keys are only ever compared with keys.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import TypeVar

from kiosk.translit import APOSTROPHES, to_latin

T = TypeVar("T")

# Letters of the 2026 Latin alphabet and Turkish keyboards that stand for digraphs.
_SPECIAL = str.maketrans({"ş": "sh", "ç": "ch", "ñ": "ng", "ı": "i", "ʻ": "", "ʼ": ""})
_APOS = re.compile(f"[{APOSTROPHES}]")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_MERGES = (
    (re.compile(r"t+s"), "s"),  # Russian ц read either way (tsentr / sentr)
    (re.compile(r"(?<![sc])h"), "x"),  # ҳ and х (hokim / xokim), but never sh/ch
    (re.compile(r"y+e"), "e"),  # е written ye or e (poyezd / poezd)
)


@lru_cache(maxsize=8192)
def search_key(text: str) -> str:
    """One loose lower-case Latin spelling of ``text``; words separated by one space."""
    s = unicodedata.normalize("NFKC", text).casefold()
    s = to_latin(s).lower()
    s = _APOS.sub("", s).translate(_SPECIAL)
    s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
    s = _NON_WORD.sub(" ", s)
    for pattern, repl in _MERGES:
        s = pattern.sub(repl, s)
    return " ".join(s.split())


def matches(query: str, *texts: str) -> bool:
    """True when every word of ``query`` occurs (as prefix or inside) in one of ``texts``."""
    words = search_key(query).split()
    if not words:
        return True
    keys = [search_key(t) for t in texts if t]
    return all(any(w in k for k in keys) for w in words)


def score(query: str, *texts: str) -> int:
    """How well ``texts`` match ``query``: 0 is no match; higher is better.

    Per query word: 3 when it is a whole word, 2 a word's start, 1 inside a word;
    one more when the text starts with the query (a name typed from its beginning).
    """
    words = search_key(query).split()
    if not words:
        return 1
    keys = [search_key(t) for t in texts if t]
    text_words = [w for k in keys for w in k.split()]
    total = 1 if any(k.startswith(words[0]) for k in keys) else 0
    for q in words:
        best = 0
        for w in text_words:
            if w == q:
                best = 3
                break
            if w.startswith(q):
                best = max(best, 2)
            elif q in w:
                best = max(best, 1)
        if best == 0:
            return 0
        total += best
    return total


def rank(query: str, items: Sequence[T], texts_of: Callable[[T], Iterable[str]]) -> list[T]:
    """The items matching ``query``, best first; equal scores keep the given order."""
    scored = [(score(query, *texts_of(item)), i, item) for i, item in enumerate(items)]
    return [
        item for s, _, item in sorted((x for x in scored if x[0] > 0), key=lambda x: (-x[0], x[1]))
    ]
