"""Functions of ODK's XPath that real forms use beyond XPath 1.0 (issue 17).

Each follows getodk/javarosa (the engine of ODK Collect), checked against it by the
differential test (tests/test_javarosa_diff.py) where a form uses it, and by unit tests
with values from ODK's documentation (tests/test_expr_odk.py):

- ``current()``, ``position(..)``, ``instance('list')/root/item[...]`` (in the
  evaluator), ``pulldata('file', 'column', 'key column', key)``,
  ``jr:choice-name(value, '${field}')``, ``jr:itext(itextId)`` of a choice;
- ``random()`` (deterministic per submission: a seed per session and the place it is
  evaluated), ``randomize(nodes[, seed])`` (JavaRosa's Park-Miller shuffle, so a seeded
  order is the one Collect shows);
- ``count-non-empty()``, the trigonometric functions, ``exp10``, ``atan2``;
- ``digest(data, 'MD5'|'SHA-1'|'SHA-256'|'SHA-384'|'SHA-512'[, 'base64'|'hex'])``.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random as _random
import re
from typing import Any

from kiosk.expr.errors import ExprError
from kiosk.expr.functions import _builtin, _math1
from kiosk.expr.values import as_nodes, tidy_number, to_number, to_string

# --- nodes, lists and files -----------------------------------------------------------


@_builtin("current", 0, 0, ctx=True)
def _current(ctx: Any) -> Any:
    return ctx.current


@_builtin("position", 0, 0, ctx=True)
def _position(ctx: Any) -> int:
    # position(..): the repeat entry's number; outside a repeat the form's root, 1.
    return ctx.position if ctx.position is not None else 1


@_builtin("pulldata", 4, 4, ctx=True)
def _pulldata(ctx: Any, name: Any, column: Any, key_column: Any, key: Any) -> str:
    rows = ctx.instance(to_string(name)) if ctx.instance is not None else None
    if rows is None:
        raise ExprError(f"no file {to_string(name)}.csv beside the form")
    col, kcol, k = to_string(column), to_string(key_column), to_string(key)
    for row in rows:
        if to_string(row.get(kcol)) == k:
            return to_string(row.get(col))
    return ""


_FIELD = re.compile(r"\$\{\s*([^}\s]+)\s*\}|([^\s/]+)\s*$")


@_builtin("jr:choice-name", 2, 2, ctx=True)
def _choice_name(ctx: Any, value: Any, field: Any) -> str:
    # The second argument names the select: '${field}', or a path ending in its name.
    m = _FIELD.search(to_string(field))
    if m is None or ctx.choice_label is None:
        return ""
    return ctx.choice_label(m.group(1) or m.group(2), to_string(value)) or ""


_ITEXT_ID = re.compile(r"(.+)-(\d+)")


@_builtin("jr:itext", 1, 1, ctx=True)
def _itext(ctx: Any, text_id: Any) -> str:
    # The label of a choice by the itextId pyxform gives it ("list-index"), in the
    # session's language (a lookup: jr:itext(instance('l')/root/item[...]/itextId)).
    m = _ITEXT_ID.fullmatch(to_string(text_id).strip())
    rows = ctx.instance(m.group(1)) if m is not None and ctx.instance is not None else None
    if m is None or rows is None or int(m.group(2)) >= len(rows):
        return ""
    return to_string(rows[int(m.group(2))].get("label"))


@_builtin("count-non-empty", 1, 1)
def _count_non_empty(nodes: Any) -> int:
    return sum(1 for v in as_nodes(nodes) if to_string(v) != "")


# --- random -----------------------------------------------------------------------------


@_builtin("random", 0, 0, ctx=True)
def _random_fn(ctx: Any) -> float:
    """A number in [0, 1): the same for a session, a place and a draw there, so
    recalculating gives the same answers (ODK draws anew; wrap it in once() there)."""
    if ctx.seed is None:
        return _random.random()
    ctx.draws[0] += 1
    digest = hashlib.sha256(f"{ctx.seed}:{ctx.site}:{ctx.draws[0]}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) / float(1 << 53)


_MODULUS = 2147483647.0


class _ParkMiller:
    """JavaRosa's ParkMiller (a java.util.Random subclass), step for step."""

    def __init__(self, seed: int) -> None:
        s = math.fmod(float(seed), _MODULUS)
        self.seed = s + (_MODULUS - 1) if s <= 0 else s

    def next_double(self) -> float:
        self.seed = math.fmod(self.seed * 16807.0, _MODULUS)
        return (_java_int(self.seed) - 1) / (_MODULUS - 1)


def _java_int(x: float) -> int:
    """Java's Double.intValue(): toward zero, clamped to int."""
    return max(-(2**31), min(2**31 - 1, int(x)))


def _seed_of(value: Any) -> int:
    """JavaRosa's toNumericWithLongHash: the number, or a SHA-256 of the text."""
    x = to_number(value)
    if not math.isnan(x):
        return int(x) if math.isfinite(x) else (2**63 - 1 if x > 0 else -(2**63))
    text = to_string(value)
    if not text:
        return 0
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


@_builtin("randomize", 1, 2, ctx=True)
def _randomize(ctx: Any, nodes: Any, *seed: Any) -> list[Any]:
    items = as_nodes(nodes)
    if seed:
        rng: Any = _ParkMiller(_seed_of(seed[0]))
    else:
        rng = _ParkMiller(ctx.seed if ctx.seed is not None else _random.getrandbits(31))
    out: list[Any] = [None] * len(items)
    for i, item in enumerate(items):  # FisherYates.shuffle, "inside-out"
        j = _java_int(rng.next_double() * (i + 1))
        if j != i:
            out[i] = out[j]
        out[j] = item
    return out


# --- numbers ----------------------------------------------------------------------------

for _name, _fn in (
    ("sin", math.sin),
    ("cos", math.cos),
    ("tan", math.tan),
    ("asin", math.asin),
    ("acos", math.acos),
    ("atan", math.atan),
):
    _builtin(_name, 1, 1)(_math1(_fn))
_builtin("exp10", 1, 1)(_math1(lambda x: 10.0**x))


@_builtin("atan2", 2, 2)
def _atan2(y: Any, x: Any) -> int | float:
    return tidy_number(math.atan2(to_number(y), to_number(x)))


# --- digest -----------------------------------------------------------------------------

_ALGORITHMS = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384"}
_ALGORITHMS["SHA-512"] = "sha512"


@_builtin("digest", 2, 3)
def _digest(data: Any, algorithm: Any, *encoding: Any) -> str:
    algo = _ALGORITHMS.get(to_string(algorithm).strip().upper())
    if algo is None:
        raise ExprError(
            f"unknown algorithm {to_string(algorithm)!r}; use one of {list(_ALGORITHMS)}"
        )
    enc = to_string(encoding[0]).strip().lower() if encoding else "base64"
    if enc not in ("base64", "hex"):
        raise ExprError(f"unknown encoding {enc!r}; use 'base64' or 'hex'")
    raw = hashlib.new(algo, to_string(data).encode("utf-8")).digest()
    return raw.hex() if enc == "hex" else base64.b64encode(raw).decode("ascii")
