"""Bounded reading of request bodies and bundle files, before and while they are parsed.

Python's json builds every value of its input at once, and a small gzip body can unpack
a thousand times over: a 100 KB bundle of ``[{},{},...]`` once cost the portal 2.7 GB.
So nothing here hands bytes to the JSON parser before their shape is known to be
bounded:

- `inflate` decompresses gzip in fixed-size chunks, counting the total as it goes, so a
  bomb is refused after at most ``limit`` bytes and never held whole;
- `Shape` scans raw JSON bytes for nesting depth, value count and string length, chunk
  by chunk, so a hostile body is refused before ``json.loads`` ever sees it. Its work
  is linear in every input: strings are skipped by `_next_quote` (``bytes.find``) and
  `_string_end` (one anchored regular expression with possessive quantifiers, which
  cannot backtrack), each starting where the last one stopped, so no byte is looked at
  twice; the state of a string left open at the end of a piece (its length, a pending
  backslash) is carried, never its bytes. Brackets are summed with C-level iterators,
  no Python loop per byte. (It once removed strings with ``re.sub`` of a backtracking
  pattern: on an unterminated string of ``\\"\\"...`` every quote started a new
  attempt to the end, quadratic, and a 256 KB line held the GIL, and so the portal's
  event loop, for minutes.)

The parser then costs at most a small multiple of the bytes it is given: every value is
one of at most ``max_values``, none deeper than ``max_depth``. Refusals are
`Unbounded` with a reason code of `kiosk.reasons`; callers pick the codes (a bundle's
and a request's differ) through ``codes``.
"""

from __future__ import annotations

import operator
import re
import zlib
from collections.abc import Iterator
from itertools import accumulate, count

CHUNK = 64 * 1024

# The inside of a string from a given start: runs of plain bytes and escape pairs,
# possessive (``*+``, ``++``) so the engine keeps no backtracking state and reads each
# byte once. It stops at the closing quote, at the end, or at a final lone backslash.
_STRING_BODY = re.compile(rb'(?:[^"\\]++|\\.)*+', re.S)
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.S)
# Bytes outside strings and whole strings, alternately, as far as they go.
_COMPLETE = re.compile(rb'(?:[^"]++|"(?:[^"\\]++|\\.)*+")*+', re.S)
_BRACKETS_ONLY = bytes(sorted(set(range(256)) - set(b"[]{}")))
_STEP = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")  # an opening 2, a closing 0


def _string_end(text: bytes, start: int) -> int:
    """Where the string whose inside begins at ``start`` stops: its closing quote, a
    final lone backslash, or ``len(text)``. One pass, no backtracking."""
    found = _STRING_BODY.match(text, start)
    assert found is not None  # the pattern matches the empty string
    return found.end()


def _complete_prefix(text: bytes, start: int) -> int:
    """The end of the longest run from ``start`` of bytes outside strings and whole
    strings: ``len(text)``, or the opening quote of a string the text leaves open.
    One pass: an unterminated string is read to the end once, then the match stops."""
    found = _COMPLETE.match(text, start)
    assert found is not None  # the pattern matches the empty string
    return found.end()


def _strip_strings(region: bytes) -> bytes:
    """``region`` (only whole strings, see `_complete_prefix`) without its strings."""
    return _STRING.sub(b"", region)


class Unbounded(Exception):
    """Input refused by a bound; ``code`` and ``params`` name the reason."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def inflate(
    data: bytes, limit: int, *, too_large: str, damaged: str, truncated: str | None = None
) -> Iterator[bytes]:
    """The gzip member in ``data``, decompressed in chunks of at most `CHUNK` bytes.

    Raises `Unbounded`: ``too_large`` (with ``limit``) past ``limit`` bytes in all,
    ``damaged`` for input that is not gzip, ``truncated`` (default ``damaged``) when it
    is cut short.
    """
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    total = 0
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        piece: bytes | memoryview = view[start : start + CHUNK]
        while True:
            try:
                out = inflater.decompress(piece, CHUNK)
            except zlib.error as exc:
                raise Unbounded(damaged) from exc
            total += len(out)
            if total > limit:
                raise Unbounded(too_large, limit=limit)
            if out:
                yield out
            piece = inflater.unconsumed_tail
            if inflater.eof or (not piece and len(out) < CHUNK):
                break
        if inflater.eof:
            return
    raise Unbounded(truncated or damaged)


class Shape:
    """Nesting depth, value count and string length of JSON bytes fed in pieces.

    ``feed`` raises `Unbounded` as soon as a bound is passed: ``codes`` maps "depth",
    "values" and "string" to the reason codes to raise (each with ``limit``). Values are
    counted as separators plus containers (each element or member once), an upper
    bound of what the parser would build. Malformed JSON is left to the parser.
    """

    def __init__(
        self, *, max_depth: int, max_values: int, max_string: int, codes: dict[str, str]
    ) -> None:
        self.max_depth = max_depth
        self.max_values = max_values
        self.max_string = max_string
        self.codes = codes
        self.depth = 0
        self.values = 1
        # A string left open by the previous piece: its length so far (from its
        # opening quote) and whether its last byte was an unpaired backslash.
        self._open: int | None = None
        self._escape = False

    def feed(self, piece: bytes) -> None:
        end = len(piece)
        start = 0
        if self._open is not None:  # the rest of a string the last piece left open
            if self._escape and end:
                start, self._escape = 1, False  # the byte that backslash escapes
            stop = _string_end(piece, start)
            if stop == end or piece[stop] == 0x5C:  # still open (maybe a lone backslash)
                self._escape = self._escape or stop < end
                self._open += end
                if self._open > self.max_string:
                    raise Unbounded(self.codes["string"], limit=self.max_string)
                return
            self._open, start = None, stop + 1
        prefix = _complete_prefix(piece, start)
        structure = _strip_strings(piece[start:prefix])
        if prefix < end:  # a string opens at ``prefix`` and runs past this piece
            self._open = end - prefix
            self._escape = _string_end(piece, prefix + 1) < end
            if self._open > self.max_string:
                raise Unbounded(self.codes["string"], limit=self.max_string)
        steps = structure.translate(_STEP, _BRACKETS_ONLY)
        if steps:
            # After the i-th bracket the depth is (2 * openings so far) - i.
            peak = max(map(operator.sub, accumulate(steps), count(1)))
            if self.depth + peak > self.max_depth:
                raise Unbounded(self.codes["depth"], limit=self.max_depth)
            opened = sum(steps) // 2
            self.depth += 2 * opened - len(steps)
            self.values += opened
        self.values += structure.count(b",")
        if self.values > self.max_values:
            raise Unbounded(self.codes["values"], limit=self.max_values)

    def close(self) -> None:
        """The end of the input: an unterminated string is left to the parser."""
        self._open = None
        self._escape = False
