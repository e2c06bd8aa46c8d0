"""Tracking codes: check symbol catches typos, codes are random (v2) and unique per device;
v1 sequential codes keep their shape and validity."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk import tracking
from kiosk.tracking import ALPHABET


def sample_codes(n: int = 60) -> list[str]:
    rng = random.Random(7)
    codes = [tracking.sequential_code("K7M", seq) for seq in range(1, 20)]
    codes += [tracking.sequential_code("AB", rng.randrange(31**5)) for _ in range(n)]
    # v2: random codes, after enrolment (3-symbol prefix) and before (derived, 4).
    codes += [tracking.new_code("K7M", rng=rng) for _ in range(n)]
    codes += [tracking.new_code(tracking.prefix_from_id(str(i)), rng=rng) for i in range(n)]
    return codes


def test_alphabet_has_31_unambiguous_symbols() -> None:
    assert len(set(ALPHABET)) == 31
    assert not set("01ILO") & set(ALPHABET)


def test_random_codes_are_valid_short_and_shaped() -> None:
    code = tracking.new_code("K7M")
    assert len(code) == 3 + tracking.RANDOM_LEN + 1 == 10
    assert code.startswith("K7M") and tracking.is_valid(code)
    assert tracking.normalize(tracking.format_code(code)) == code
    assert tracking.format_code(code) == f"{code[:5]}-{code[5:9]}-{code[9]}"
    derived = tracking.new_code(tracking.prefix_from_id("some-device"))
    assert len(derived) == 11 and tracking.is_valid(derived)


def test_random_codes_are_not_predictable() -> None:
    # Consecutive codes of one kiosk, and the codes of two kiosks made in the same
    # order, share nothing a third party could derive: no repeats, every symbol of the
    # random part used, and no position where consecutive codes follow a pattern.
    first = [tracking.new_code("K7M")[3:9] for _ in range(2000)]
    second = [tracking.new_code("K7M")[3:9] for _ in range(2000)]
    # 31**6 bodies: a repeat among 2000 has odds of 1 in 440, three of about 1 in 10**8.
    assert len(set(first)) >= len(first) - 2
    assert len(set(first) & set(second)) <= 2
    for position in range(tracking.RANDOM_LEN):
        assert {body[position] for body in first} == set(ALPHABET)
        steps = {
            (tracking.VALUE[b[position]] - tracking.VALUE[a[position]]) % 31
            for a, b in zip(first, first[1:], strict=False)
        }
        assert len(steps) > 20  # a counter or affine step would give one or a few
    # Two kiosks with sequential v1 codes were predictable: same seq, same body.
    assert tracking.sequential_code("AAA", 5)[3:7] == tracking.sequential_code("BBB", 5)[3:7]


def test_a_seeded_rng_is_reproducible_and_secrets_is_the_default() -> None:
    import random

    assert tracking.new_code("K7M", rng=random.Random(1)) == tracking.new_code(
        "K7M", rng=random.Random(1)
    )
    with pytest.raises(TypeError):
        tracking.new_code("K7M", 5)  # type: ignore[misc]
    with pytest.raises(ValueError):
        tracking.new_code("k0")


def test_new_codes_are_valid_and_shaped() -> None:
    code = tracking.sequential_code("K7M", 1)
    assert len(code) == 3 + 4 + 1
    assert code.startswith("K7M")
    assert tracking.is_valid(code)
    assert tracking.format_code(code) == f"{code[:3]}-{code[3:7]}-{code[7]}"


@pytest.mark.parametrize("code", sample_codes())
def test_every_single_substitution_is_caught(code: str) -> None:
    for i, original in enumerate(code):
        for symbol in ALPHABET:
            if symbol != original:
                typo = code[:i] + symbol + code[i + 1 :]
                assert not tracking.is_valid(typo), (code, typo)


@pytest.mark.parametrize("code", sample_codes())
def test_every_transposition_is_caught(code: str) -> None:
    for i in range(len(code)):
        for j in range(i + 1, len(code)):
            if code[i] != code[j]:
                swapped = list(code)
                swapped[i], swapped[j] = swapped[j], swapped[i]
                assert not tracking.is_valid("".join(swapped)), (code, i, j)


def test_scramble_is_a_bijection_on_a_full_width() -> None:
    # Width 3 (29,791 values) covers the whole space quickly; the maths is width-free.
    seen = {tuple(tracking.scramble(n, 3)) for n in range(31**3)}
    assert len(seen) == 31**3
    for n in (0, 1, 2, 500, 31**4 - 1, 31**4, 10**7):
        width = tracking.seq_width(n)
        assert tracking.unscramble(tracking.scramble(n, width)) == n


def test_codes_unique_across_sequence_and_width_change() -> None:
    seqs = list(range(0, 20_000)) + list(range(31**4 - 50, 31**4 + 50))
    codes = [tracking.sequential_code("K7M", s) for s in seqs]
    assert len(set(codes)) == len(codes)
    assert len(tracking.sequential_code("K7M", 31**4)) == 3 + 5 + 1


def test_consecutive_codes_do_not_look_consecutive() -> None:
    bodies = [tracking.sequential_code("K7M", s)[3:7] for s in range(1, 200)]
    # Neighbours differ in most positions, not just the last one.
    differing = [
        sum(a != b for a, b in zip(x, y, strict=True))
        for x, y in zip(bodies, bodies[1:], strict=False)
    ]
    assert sum(differing) / len(differing) >= 3
    assert all(d >= 2 for d in differing)


def test_different_prefixes_never_collide() -> None:
    a = {tracking.sequential_code("AAA", s) for s in range(2000)}
    b = {tracking.sequential_code("AAB", s) for s in range(2000)}
    assert not a & b


def test_normalize_accepts_case_separators_and_cyrillic_lookalikes() -> None:
    code = tracking.sequential_code("K7M", 42)
    shown = tracking.format_code(code)
    assert tracking.normalize(shown.lower()) == code
    assert tracking.normalize(" " + shown.replace("-", " ") + " ") == code
    cyrillic = shown.translate(str.maketrans("KMAEHPCTXB", "КМАЕНРСТХВ"))
    assert tracking.normalize(cyrillic) == code
    assert tracking.is_valid(cyrillic.lower())


@pytest.mark.parametrize("bad", ["", "abc", "K7M-0QXP-R", "K7M-IQXP-R", "K7M-4QXP-?", "x" * 40])
def test_normalize_rejects_non_codes(bad: str) -> None:
    assert tracking.normalize(bad) is None
    assert not tracking.is_valid(bad)


def test_confusable_typed_by_mistake_is_invalid_not_guessed() -> None:
    code = tracking.sequential_code("K7M", 3)
    assert not tracking.is_valid(code.replace(code[4], "O"))


def test_spoken_chars_spell_the_code() -> None:
    code = tracking.sequential_code("K7M", 9)
    assert tracking.spoken_chars(tracking.format_code(code)) == list(code)


def test_prefix_from_id_is_stable_and_valid() -> None:
    p = tracking.prefix_from_id("f87ee446-b365-4689-aa20-283018a44107")
    assert p == tracking.prefix_from_id("f87ee446-b365-4689-aa20-283018a44107")
    assert len(p) == 4 and tracking.is_valid_prefix(p)


def test_unenrolled_codes_never_look_like_enrolled_ones() -> None:
    # Derived prefixes are one symbol longer than the portal's, so the code lengths
    # differ for the first 31**4 submissions of every kiosk.
    derived = tracking.sequential_code(tracking.prefix_from_id("some-device"), 31**4 - 1)
    enrolled = tracking.sequential_code("K7M", 31**4 - 1)
    assert len(derived) == len(enrolled) + 1


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("K7M4QXPR", "K7M-4QXP-R"),
        ("AB7K4QXPR", "AB7K-4QXP-R"),
        ("K7M4QXPZR", "K7M4-QXPZ-R"),
        ("ABCDEFGHJK", "ABCDE-FGHJ-K"),
    ],
)
def test_format_groups(code: str, shown: str) -> None:
    assert tracking.format_code(code) == shown


def test_invalid_prefix_and_negative_sequence_rejected() -> None:
    with pytest.raises(ValueError):
        tracking.sequential_code("k0", 1)
    with pytest.raises(ValueError):
        tracking.sequential_code("K7M", -1)


@given(
    prefix=st.text(alphabet=ALPHABET, min_size=1, max_size=4),
    seq=st.integers(min_value=0, max_value=31**6),
)
def test_format_and_normalize_round_trip(prefix: str, seq: int) -> None:
    code = tracking.sequential_code(prefix, seq)
    assert tracking.normalize(tracking.format_code(code)) == code
    assert tracking.is_valid(tracking.format_code(code).lower())
    assert tracking.unscramble(tracking.scramble(seq, tracking.seq_width(seq))) == seq
