"""Property tests: a damaged form file (truncated, bytes replaced, a line deleted or
doubled) is refused with the documented CatalogError, never a traceback, and
`kiosk.xlsform_check.check_file` lists its issues rather than raising."""

from __future__ import annotations

import copy
import os
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kiosk.catalog import (
    BUNDLED_DIR,
    CatalogError,
    bundled_form_files,
    form_from_spec,
    load_form_file,
    load_spec_file,
)
from kiosk.engine import FormSession
from kiosk.engine_json import validate_answers
from kiosk.xlsform_check import XlsformIssue, check_file

CI = bool(os.environ.get("CI"))
# pyxform takes a good part of a second per file: few examples, each a fresh corruption.
SLOW_FEW = settings(
    max_examples=40,
    deadline=None,
    derandomize=CI,
    database=None if CI else settings.default.database,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
FORMS: dict[str, bytes] = {path.name: path.read_bytes() for path in bundled_form_files()}
LANGS = ("uz_Latn", "uz_Cyrl", "ru", "en")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the shared choice files, as beside the bundled forms."""
    path = tmp_path_factory.mktemp("forms")
    for csv in BUNDLED_DIR.glob("*.csv"):
        shutil.copy(csv, path / csv.name)
    return path


# Characters of the table and of expressions: they reach pyxform's and the catalog's
# deeper checks, where a broken UTF-8 byte stops everything at once.
TABLE_CHARS = st.sampled_from(list("||| \n\t$${}.,=()'ab019-_") + ["ʻ", "ж", "\x00"])
HOW = ("truncate", "replace_chars", "replace_byte", "delete_line", "double_line", "drop_pipe")


@st.composite
def corruptions(draw: st.DrawFn) -> tuple[str, bytes]:
    """A bundled form's bytes, damaged once or twice in one of several ways."""
    name = draw(st.sampled_from(sorted(FORMS)), label="form")
    data = FORMS[name]
    for _ in range(draw(st.integers(1, 2))):
        how = draw(st.sampled_from(HOW))
        lines = data.splitlines(keepends=True)
        if how == "truncate" and data:
            if draw(st.booleans()):  # anywhere, even inside a UTF-8 sequence
                data = data[: draw(st.integers(0, len(data) - 1))]
            else:  # after a whole line
                data = b"".join(lines[: draw(st.integers(0, len(lines)))])
        elif how == "replace_chars" and data:
            text = list(data.decode("utf-8", errors="replace"))
            for _ in range(draw(st.integers(1, 3))):
                text[draw(st.integers(0, len(text) - 1))] = draw(TABLE_CHARS)
            data = "".join(text).encode("utf-8")
        elif how == "replace_byte" and data:
            spoilt = bytearray(data)
            spoilt[draw(st.integers(0, len(spoilt) - 1))] = draw(st.integers(0, 255))
            data = bytes(spoilt)
        elif how == "delete_line" and lines:
            del lines[draw(st.integers(0, len(lines) - 1))]
            data = b"".join(lines)
        elif how == "double_line" and lines:
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            data = b"".join(lines)
        elif how == "drop_pipe" and b"|" in data:
            pipes = [i for i, byte in enumerate(data) if byte == ord("|")]
            i = draw(st.sampled_from(pipes))
            data = data[:i] + data[i + 1 :]
    return name, data


@SLOW_FEW
@given(case=corruptions())
def test_damaged_form_file_is_a_catalog_error_or_a_working_form(
    folder: Path, case: tuple[str, bytes]
) -> None:
    name, data = case
    path = folder / name
    path.write_bytes(data)

    issues = check_file(path)
    assert isinstance(issues, list)
    for issue in issues:
        assert isinstance(issue, XlsformIssue)
        assert str(issue).strip() and issue.message.strip()

    try:
        form = load_form_file(path)
    except CatalogError as exc:
        event("refused")
        for lang in LANGS:
            assert exc.message(lang).strip()
        assert str(exc).strip()
        # What the catalog refuses, the checker reports too.
        assert issues, f"check_file found nothing wrong, yet loading says: {exc}"
        return
    event("loaded")
    # Whatever still loads must run: a session, the review, validation of no answers.
    session = FormSession(form, lang="ru")
    session.review()
    payload, errors = validate_answers(form, {}, "uz_Cyrl")
    assert isinstance(payload, dict)
    assert all(e.message.strip() for e in errors)


# ----- a portal's pyxform JSON, damaged ------------------------------------------------

# Forms with a free repeat, a counted repeat and a choice filter (pyxform runs once each).
SPEC_FORMS = ("social_assistance.md", "child_allowance.md", "utility_complaint.md")
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@cache
def spec_of(name: str) -> dict[str, Any]:
    return load_spec_file(BUNDLED_DIR / name)


def _places(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path inside a JSON document."""
    found = [prefix] if prefix else []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, value in items:
        found += _places(value, (*prefix, key))
    return found


@SLOW_FEW
@given(data=st.data())
def test_damaged_spec_is_a_catalog_error_or_a_working_form(data: st.DataObject) -> None:
    """What the portal sends goes through form_from_spec: values replaced by any JSON, keys
    deleted; the result is CatalogError or a form that runs."""
    spec = copy.deepcopy(spec_of(data.draw(st.sampled_from(SPEC_FORMS), label="form")))
    places = _places(spec)
    for _ in range(data.draw(st.integers(1, 3), label="damages")):
        *parents, last = data.draw(st.sampled_from(places), label="where")
        node: Any = spec
        try:
            for key in parents:
                node = node[key]
            if data.draw(st.booleans(), label="delete"):
                del node[last]
            else:
                node[last] = data.draw(JSON, label="value")
        except (KeyError, IndexError, TypeError):
            continue  # an earlier damage removed or replaced the parent
    try:
        form = form_from_spec(spec, origin="portal")
    except CatalogError as exc:
        event("refused")
        assert str(exc).strip() and exc.message("uz_Cyrl").strip()
        return
    event("loaded")
    session = FormSession(form, lang="uz_Latn")
    session.review()
    for _ in range(len(session.steps()) + 5):  # walk to the review with simple answers
        step = session.current
        if step is None:
            break
        if step.kind == "question" and step.question.is_input:
            q = step.question
            session.set(step.ref, q.choices[0].name if q.choices else "12")
        if session.next():
            break
    _, errors = validate_answers(form, session.payload(), "ru")
    assert all(e.message.strip() for e in errors)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00\xff\xfe", b"| survey |\n", b"| survey |\n| | type | name |\n"],
    ids=["empty", "binary", "survey-header-only", "no-rows"],
)
def test_hopeless_files(folder: Path, data: bytes) -> None:
    path = folder / "hopeless.md"
    path.write_bytes(data)
    assert check_file(path)
    with pytest.raises(CatalogError):
        load_form_file(path)


def test_missing_file_and_wrong_suffix(folder: Path) -> None:
    with pytest.raises(CatalogError):
        load_form_file(folder / "nowhere.md")
    assert check_file(folder / "nowhere.md")
    other = folder / "form.txt"
    other.write_bytes(FORMS[sorted(FORMS)[0]])
    with pytest.raises(CatalogError):
        load_form_file(other)
    assert check_file(other)
