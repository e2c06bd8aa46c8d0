"""The preset dictionary a sealed payload is compressed with (`kiosk.sealing`).

One submission's answers are a few hundred bytes of canonical JSON: deflate alone
finds little to repeat in them, and sealing removes what gzip used to share between
the items of a batch. But most of those bytes are the form's own words: field names
(every key), choice names (most values). Both ends have the form spec, so both build
the same dictionary from it, deterministically (`form_dictionary`): a fixed list of
common fragments of Uzbek and Russian names and addresses (`COMMON`), then every
``name`` in the spec as it appears in the payload (``"name":``), sorted, the form's
words last so they sit nearest the data (shorter distances). Only the spec's words
and the fixed list: never sample answers.

zlib's preset dictionary (stdlib, raw deflate) rather than zstd's trained
dictionaries: no new dependency, and a trained dictionary would have to ship and be
versioned beside each form; this one is derived from what already ships.
"""

from __future__ import annotations

from collections.abc import Mapping

MAX_DICT = 32 * 1024  # deflate's window: a longer dictionary's start is never reached

# Fragments common to answers on any form: patronymics, address words, phone and
# date prefixes, region names (Uzbek Latin, Russian). Never a person's answers.
COMMON: tuple[str, ...] = (
    "Qoraqalpogʻiston",
    "Toshkent",
    "Samarqand",
    "Buxoro",
    "Fargʻona",
    "Andijon",
    "Namangan",
    "Qashqadaryo",
    "Surxondaryo",
    "Xorazm",
    "Navoiy",
    "Jizzax",
    "Sirdaryo",
    "Ташкент",
    "область",
    "район",
    "улица ",
    "ович",
    "овна",
    "евич",
    "евна",
    " viloyati",
    " shahri",
    " tumani, ",
    " mahallasi",
    " koʻchasi, ",
    " ko'chasi, ",
    "-kvartal, ",
    "-xonadon",
    "-uy",
    " MFY",
    "ovich",
    "evich",
    "ovna",
    "evna",
    " o'g'li",
    " oʻgʻli",
    " qizi",
    "ova ",
    "ov ",
    "-01",
    "-10",
    "-20",
    '"19',
    '"20',
    "+998 9",
    '":"yes",',
    '":"no",',
    '"consent":"OK"}',
)


def _names(spec: object) -> set[str]:
    """Every ``name`` in the spec: its fields, groups, repeats and choices."""
    found: set[str] = set()
    stack = [spec]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            name = node.get("name")
            if isinstance(name, str) and 0 < len(name) <= 100:
                found.add(name)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def form_dictionary(spec: object | None) -> bytes:
    """The dictionary for payloads of the form ``spec`` (None: the common part only).

    The same spec gives the same bytes, whatever its key order or formatting.
    """
    words = [f'"{name}":' for name in sorted(_names(spec))] if spec is not None else []
    data = "".join(COMMON).encode("utf-8") + "".join(words).encode("utf-8")
    return data[-MAX_DICT:]


COMMON_DICTIONARY = form_dictionary(None)
