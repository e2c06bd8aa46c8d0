"""sync.bodies: the shape of JSON bytes (depth, values, strings) read in any pieces, and
bounded gzip inflation."""

from __future__ import annotations

import gzip
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.bodies import CHUNK, Shape, Unbounded, inflate

CODES = {"depth": "deep", "values": "many", "string": "long"}


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _shape(max_depth: int = 1000, max_values: int = 10**9, max_string: int = 10**9) -> Shape:
    return Shape(max_depth=max_depth, max_values=max_values, max_string=max_string, codes=CODES)


tricky_text = st.text(alphabet='[]{}",\\:ab\n\u2028ж😀', max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | tricky_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(tricky_text, inner, max_size=4),
    max_leaves=30,
)


@given(json_values, st.lists(st.integers(min_value=0, max_value=400), max_size=6))
def test_depth_is_exact_in_any_pieces(value: object, cuts: list[int]) -> None:
    data = json.dumps(value, ensure_ascii=False).encode()
    depth = _depth(value)
    for limit, refused in ((depth, False), (depth - 1, True)):
        shape = _shape(max_depth=limit)
        points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
        try:
            for start, end in zip(points, points[1:], strict=False):
                shape.feed(data[start:end])
        except Unbounded as exc:
            assert refused and exc.code == "deep" and exc.params == {"limit": limit}
        else:
            assert not refused or depth == 0


def test_brackets_inside_strings_do_not_count() -> None:
    shape = _shape(max_depth=1)
    shape.feed(b'["[[[[", "\\"[[[", "{{{{\\\\"]')
    assert shape.depth == 0


def test_values_and_long_strings_refused() -> None:
    with pytest.raises(Unbounded) as info:
        _shape(max_values=100).feed(b"[" + b"0," * 200 + b"0]")
    assert info.value.code == "many"
    shape = _shape(max_string=15)
    shape.feed(b'["short", "a long str')
    with pytest.raises(Unbounded) as info:
        shape.feed(b"ing that goes on")
    assert info.value.code == "long"


def test_inflate_bounds_and_damage() -> None:
    data = gzip.compress(b"x" * (3 * CHUNK + 5))
    assert b"".join(inflate(data, 4 * CHUNK, too_large="big", damaged="bad")) == b"x" * (
        3 * CHUNK + 5
    )
    with pytest.raises(Unbounded) as info:
        list(inflate(data, CHUNK, too_large="big", damaged="bad"))
    assert info.value.code == "big" and info.value.params == {"limit": CHUNK}
    with pytest.raises(Unbounded) as info:
        list(inflate(data[:-10], 4 * CHUNK, too_large="big", damaged="bad", truncated="cut"))
    assert info.value.code == "cut"
    with pytest.raises(Unbounded) as info:
        list(inflate(b"not gzip", 4 * CHUNK, too_large="big", damaged="bad"))
    assert info.value.code == "bad"


class _OldShape:
    """The scanner as it was (a backtracking ``re.sub``, quadratic on hostile input):
    the reference the linear one must agree with, on small inputs."""

    _STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)

    def __init__(self, shape: Shape) -> None:
        self.shape = shape  # only its limits and codes; its counters are ours here
        self.depth, self.values, self.carry = 0, 1, b""

    def feed(self, piece: bytes) -> None:
        s = self.shape
        text = self.carry + piece
        structure = self._STRING.sub(b"", text)
        quote = structure.find(b'"')
        if quote >= 0:
            self.carry = text[len(text) - (len(structure) - quote) :]
            structure = structure[:quote]
            if len(self.carry) > s.max_string:
                raise Unbounded(s.codes["string"], limit=s.max_string)
        else:
            self.carry = b""
        for byte in structure:
            if byte in b"[{":
                self.depth += 1
                self.values += 1
                if self.depth > s.max_depth:
                    raise Unbounded(s.codes["depth"], limit=s.max_depth)
            elif byte in b"]}":
                self.depth -= 1
        self.values += structure.count(b",")
        if self.values > s.max_values:
            raise Unbounded(s.codes["values"], limit=s.max_values)


def _outcome(shape: Shape | _OldShape, pieces: list[bytes]) -> list[object]:
    seen: list[object] = []
    for piece in pieces:
        try:
            shape.feed(piece)
        except Unbounded as exc:
            return [*seen, exc.code]
        seen.append((shape.depth, shape.values))
    return seen


@given(
    st.lists(st.sampled_from(list(b'[]{}",\\a')), max_size=60).map(bytes),
    st.lists(st.integers(min_value=0, max_value=60), max_size=6),
    st.integers(min_value=0, max_value=6),
    st.integers(min_value=0, max_value=12),
    st.integers(min_value=1, max_value=8),
)
def test_same_answers_as_the_old_scanner_on_any_bytes(
    data: bytes, cuts: list[int], max_depth: int, max_values: int, max_string: int
) -> None:
    """Depth, value count, string length and which bound is hit first: exactly as
    before, for any bytes (JSON or not) cut into any pieces."""
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    pieces = [data[a:b] for a, b in zip(points, points[1:], strict=False)]
    new = _shape(max_depth=max_depth, max_values=max_values, max_string=max_string)
    old = _OldShape(new)
    assert _outcome(new, pieces) == _outcome(old, pieces)


def _hostile_inputs(n: int) -> list[bytes]:
    """The review's attacks, n bytes or so each: an unterminated string of escaped
    quotes (the freeze), runs of backslashes, many strings, quotes only."""
    return [
        b'{"items":["' + b'\\"' * (n // 2),
        b'{"a":"' + b'\\"' * (n // 2) + b'"}',
        b'["' + b"\\\\" * (n // 4) + b'\\"' * (n // 4),
        b'["",' * (n // 4),
        b'"' * n,
        b'\\"' * (n // 2),
    ]


@pytest.mark.parametrize("piece_size", [None, CHUNK, 4097])
def test_scanning_work_is_linear(monkeypatch: pytest.MonkeyPatch, piece_size: int | None) -> None:
    """Every pass over the bytes goes through one of three primitives, each a single
    non-backtracking pass (possessive patterns) from its start to its end: count the
    bytes they are handed. The total is at most three times the input, whatever its
    size, and a piece costs at most four calls: no byte is read again per quote."""
    from sync import bodies

    handed = [0]
    calls = [0]

    def counted(name: str) -> None:
        real = getattr(bodies, name)

        def wrapper(text: bytes, *start: int) -> object:
            handed[0] += len(text) - (start[0] if start else 0)
            calls[0] += 1
            return real(text, *start)

        monkeypatch.setattr(bodies, name, wrapper)

    for name in ("_string_end", "_complete_prefix", "_strip_strings"):
        counted(name)
    for n in (64 * 1024, 512 * 1024):
        for data in _hostile_inputs(n):
            handed[0] = calls[0] = 0
            shape = _shape(max_depth=10**9, max_values=10**9)
            size = piece_size or len(data)
            pieces = [data[i : i + size] for i in range(0, len(data), size)]
            for piece in pieces:
                shape.feed(piece)
            assert handed[0] <= 3 * len(data), (n, data[:12])
            assert calls[0] <= 4 * len(pieces), (n, data[:12])
