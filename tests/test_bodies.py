"""sync.bodies: the shape of JSON bytes (depth, values, strings) read in any pieces, and
bounded gzip inflation."""

from __future__ import annotations

import gzip
import json

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
