"""Tracking codes: short, unambiguous, unique across kiosks, self-checking, unguessable.

A code is ``PREFIX + RANDOM + CHECK`` over a 31-symbol alphabet with no look-alikes
(no 0/O, 1/I/L):

- PREFIX: the device prefix: PREFIX_LEN symbols assigned by the portal at enrolment
  (unique among enrolled kiosks). Before enrolment it is DERIVED_PREFIX_LEN symbols
  derived from the device id: one symbol longer, so a kiosk that is not enrolled yet
  never hands out a code of an enrolled kiosk's length. The kiosk registers this
  derived prefix when it enrols, so its earlier codes stay its own at the portal.
- RANDOM: RANDOM_LEN symbols from `secrets`. The portal accepts a code only from the
  device whose prefix it carries (protocol v2), so no other kiosk can claim it; the
  random part makes a device's next code unknowable in advance, so nobody can predict
  or enumerate a citizen's code either (a status desk or phone line reads one out).
- CHECK: one symbol making ``sum((i + 1) * value(c_i)) % 31 == 0`` over the whole
  code. 31 is prime and the weights 1..len are distinct and non-zero mod 31 (codes are
  at most 30 symbols), so any single wrong symbol and any swap of two different
  symbols is caught.

Length against entropy: each symbol is log2(31) = 4.95 bits and one more thing to read
aloud. 6 random symbols are 31**6 = 887,503,681 codes per prefix (29.7 bits): one
blind guess hits a given device's pending code with odds of about one in a billion
times the codes it has pending, and the code stays 10 symbols (3 + 6 + 1; 11 before
enrolment), read aloud as three groups, ``K7M4Q-XPR2-Z``. 5 symbols (24.8 bits) would
save one symbol but make a guess 31 times likelier; 8 (39.6 bits) would be 12 symbols,
too long to read over a phone. Random codes of one device can repeat (birthday
bound: about 1 in 110 among 4,000 codes); `kiosk.outbox.add` draws again when the code
is already in the outbox (its ``tracking_code`` is UNIQUE and rows are kept), so
codes stay unique per device, and prefixes make them unique across devices.

Protocol v1 codes were ``PREFIX + SEQ + CHECK``, with SEQ the device's counter run
through a bijection (`sequential_code`): predictable. Those already printed on
receipts or queued stay valid: same alphabet, same check, the device's prefix.

Input is forgiving where it is unambiguous: any case, dashes/spaces/dots ignored, and
Cyrillic letters that look like Latin ones (А В Е К М Н Р С Т Х У, З for 3) are read
as those, because an Uzbek keyboard is often left on the Cyrillic layout. 0, O, 1, I
and L are never in a code; typed by mistake they make the input invalid (rather than
guessing which symbol was meant).
"""

from __future__ import annotations

import hashlib
import random
import secrets

from kiosk.wire import ALPHABET, PREFIX_LEN

BASE = len(ALPHABET)  # 31, a prime
VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
SEQ_MIN_WIDTH = 4  # v1 sequential codes; also the shortest code `normalize` accepts
RANDOM_LEN = 6  # random symbols of a v2 code: 29.7 bits (see above)
DERIVED_PREFIX_LEN = PREFIX_LEN + 1  # made from the device id before enrolment
# What follows the derived prefix in a code made before enrolment: a v1 sequence of 4
# + check (9 symbols in all) or v2's random part + check (11). Never 10 symbols: every
# code made after enrolment is PREFIX_LEN + RANDOM_LEN + check = 10, so the two kinds
# can never be mistaken for each other (the portal's claims rely on it).
PRE_ENROLMENT_RESTS = frozenset({SEQ_MIN_WIDTH + 1, RANDOM_LEN + 1})
MAX_LEN = BASE - 1  # weights 1..30 stay distinct and non-zero mod 31

# Cyrillic homoglyphs (upper case after str.upper()) -> the Latin/digit symbol.
_HOMOGLYPHS = str.maketrans(
    {
        "А": "A",
        "В": "B",
        "Е": "E",
        "К": "K",
        "М": "M",
        "Н": "H",
        "Р": "P",
        "С": "C",
        "Т": "T",
        "Х": "X",
        "У": "Y",
        "З": "3",
    }
)
_SEPARATORS = str.maketrans("", "", " -_.\t\u00a0\u2010\u2011\u2012\u2013\u2014")

# Fixed multiplier and offset of the affine step; the multiplier is coprime to 31.
_MUL = 104_729
_ADD = 7_919


def _digits(n: int, width: int) -> list[int]:
    out = []
    for _ in range(width):
        n, d = divmod(n, BASE)
        out.append(d)
    return out  # least significant first


def _undigits(ds: list[int]) -> int:
    n = 0
    for d in reversed(ds):
        n = n * BASE + d
    return n


def seq_width(seq: int) -> int:
    """Symbols needed for sequence number `seq` (at least SEQ_MIN_WIDTH)."""
    width = SEQ_MIN_WIDTH
    while seq >= BASE**width:
        width += 1
    return width


def scramble(seq: int, width: int) -> list[int]:
    """A bijection on [0, 31**width): affine step, then two carry-free diffusion passes.

    Each pass adds to every digit a function of the digits already processed, which
    is invertible digit by digit; one pass upward and one downward make every output
    digit depend on every input digit.
    """
    n: int = BASE**width
    ds = _digits((seq * _MUL + _ADD) % n, width)
    acc = 0
    for i in range(width):  # upward
        ds[i] = (ds[i] + acc * 7 + i + 3) % BASE
        acc += ds[i]
    acc = 0
    for i in reversed(range(width)):  # downward
        ds[i] = (ds[i] + acc * 11 + i + 5) % BASE
        acc += ds[i]
    return ds


def unscramble(ds: list[int]) -> int:
    """The inverse of `scramble` (used by tests to prove it is a bijection)."""
    width = len(ds)
    ds = list(ds)
    acc = 0
    for i in reversed(range(width)):
        out = ds[i]
        ds[i] = (out - acc * 11 - i - 5) % BASE
        acc += out
    acc = 0
    for i in range(width):
        out = ds[i]
        ds[i] = (out - acc * 7 - i - 3) % BASE
        acc += out
    n: int = BASE**width
    return ((_undigits(ds) - _ADD) * pow(_MUL, -1, n)) % n


def check_char(body: str) -> str:
    """The symbol that makes the weighted sum of `body + symbol` zero mod 31."""
    total = sum((i + 1) * VALUE[c] for i, c in enumerate(body))
    weight = len(body) + 1
    return ALPHABET[(-total * pow(weight, -1, BASE)) % BASE]


def prefix_from_id(device_id: str) -> str:
    """A DERIVED_PREFIX_LEN-symbol prefix derived from a device id (until enrolment)."""
    n = int.from_bytes(hashlib.sha256(device_id.encode()).digest()[:8], "big")
    return "".join(ALPHABET[d] for d in _digits(n, DERIVED_PREFIX_LEN))


def is_valid_prefix(prefix: str) -> bool:
    return 1 <= len(prefix) <= 8 and all(c in VALUE for c in prefix)


def sequential_code(prefix: str, seq: int) -> str:
    """The protocol v1 code for submission number `seq` of a device (predictable).

    No longer handed out; kept because v1 codes are still on receipts and in queues,
    and to show their shape in tests.
    """
    if not is_valid_prefix(prefix):
        raise ValueError(f"invalid tracking-code prefix {prefix!r}")
    if seq < 0:
        raise ValueError("sequence number must not be negative")
    width = seq_width(seq)
    body = prefix + "".join(ALPHABET[d] for d in reversed(scramble(seq, width)))
    if len(body) + 1 > MAX_LEN:
        raise ValueError("tracking code too long")
    return body + check_char(body)


def new_code(prefix: str, *, rng: random.Random | None = None) -> str:
    """A fresh canonical (undashed) code: ``prefix``, RANDOM_LEN random symbols, check.

    Random from `secrets` unless a seeded ``rng`` is given (tests and bulk tools only:
    a seeded code is predictable). Unique only with the caller's retry on collision.
    """
    if not is_valid_prefix(prefix):
        raise ValueError(f"invalid tracking-code prefix {prefix!r}")
    choice = rng.choice if rng is not None else secrets.choice
    body = prefix + "".join(choice(ALPHABET) for _ in range(RANDOM_LEN))
    return body + check_char(body)


def normalize(text: str) -> str | None:
    """Canonical form of typed or scanned input, or None if it cannot be a code.

    Does not check the check symbol (see `is_valid`), so a screen can tell "not a
    code at all" from "a mistyped code".
    """
    if not isinstance(text, str):
        return None
    code = text.upper().translate(_HOMOGLYPHS).translate(_SEPARATORS)
    if not SEQ_MIN_WIDTH + 2 <= len(code) <= MAX_LEN:
        return None
    if any(c not in VALUE for c in code):
        return None
    return code


def is_valid(text: str) -> bool:
    """True when `text` normalises to a code whose check symbol is right."""
    code = normalize(text)
    if code is None:
        return False
    return sum((i + 1) * VALUE[c] for i, c in enumerate(code)) % BASE == 0


def format_code(code: str) -> str:
    """Grouped for reading aloud and copying: fours from the right, then the check.

    ``K7M4QXPR`` -> ``K7M-4QXP-R``; ``AB7K4QXPR`` -> ``AB7K-4QXP-R``. A lone leading
    symbol joins the next group. Accepts any input `normalize` accepts.
    """
    canon = normalize(code) or code
    body, check = canon[:-1], canon[-1:]
    groups: list[str] = []
    while body:
        groups.insert(0, body[-4:])
        body = body[:-4]
    if len(groups) > 1 and len(groups[0]) == 1:
        groups[:2] = [groups[0] + groups[1]]
    return "-".join(g for g in [*groups, check] if g)


def spoken_chars(code: str) -> list[str]:
    """The code's symbols one by one, in order, for the speech service to spell."""
    canon = normalize(code) or code
    return list(canon)
