"""Enrolment codes: long enough not to be guessed, forgiving to type, self-checking.

A code is CODE_RANDOM random symbols of the tracking alphabet (31 symbols, no 0/O,
1/I/L) plus one check symbol: 13 * log2(31) ~ 64 bits, beyond guessing even without
the portal's rate limit. It is shown in groups of four (``ABCD-EFGH-JKMN-PQ``).

Typed input is read the way tracking codes are (`kiosk.tracking.normalize`: any case,
dashes and spaces ignored, Cyrillic look-alike letters read as Latin), and the check
symbol catches any single wrong symbol or swap, so the kiosk tells the operator "mistyped"
before asking the portal: a typo never counts as a wrong guess against the portal's
limit (which a whole carrier-NAT address may share). The portal keeps only a hash of
the canonical form.
"""

from __future__ import annotations

import secrets

from kiosk import tracking
from kiosk.wire import ALPHABET, text_hash

CODE_RANDOM = 13  # random symbols: 31**13 ~ 2**64.4
CODE_LEN = CODE_RANDOM + 1  # and the check symbol
GROUP = 4


def new_code() -> str:
    """A fresh code in canonical form (ungrouped, upper case, check symbol last)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(CODE_RANDOM))
    return body + tracking.check_char(body)


def normalize(text: object) -> str | None:
    """The canonical form of typed input, or None when it cannot be a code (mistyped)."""
    if not isinstance(text, str) or len(text) > 200:
        return None
    canon = tracking.normalize(text)
    if canon is None or len(canon) != CODE_LEN or not tracking.is_valid(canon):
        return None
    return canon


def format_code(code: str) -> str:
    """Groups of four for reading and typing: ``ABCD-EFGH-JKMN-PQ``."""
    canon = normalize(code) or code
    return "-".join(canon[i : i + GROUP] for i in range(0, len(canon), GROUP))


def code_hash(canon: str) -> str:
    """What the portal stores instead of the code (of the canonical form)."""
    return text_hash("enrolment-code:" + canon)
