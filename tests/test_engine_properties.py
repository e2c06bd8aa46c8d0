"""Property tests: the form engine never crashes on bad input, only reports clear errors.

`validate_answers` gets hypothesis-made JSON (random and real field names, values of
every JSON type, strings with control characters, huge numbers, odd dates, Cyrillic,
apostrophe variants) for every bundled form in every citizen language; `FormSession`
runs random sequences of screen operations (a hypothesis state machine) and keeps its
invariants: progress within the steps, drafts that resume to the same payload.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from kiosk.catalog import BUNDLED_DIR, bundled_form_files, load_form_file, load_sample
from kiosk.engine import REVIEW, FieldError, FormSession
from kiosk.engine_json import validate_answers
from kiosk.form import Form, Question

TODAY = dt.date(2026, 11, 27)
LANGS = ("uz_Latn", "uz_Cyrl", "ru")
CODES = {
    "required",
    "type",
    "choice",
    "constraint",
    "pinfl",
    "phone",
    "passport",
    "birth_date",
    "read_only",
    "unknown",
    "count",
}
# Reproducible runs in CI (CI=1): the same examples every time, no example database.
CI = bool(os.environ.get("CI"))
FAST = settings(
    max_examples=20,
    deadline=None,
    derandomize=CI,
    database=None if CI else settings.default.database,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# The bundled forms, plus the test form with nested and counted repeats.
FORM_FILES: tuple[Path, ...] = (
    *bundled_form_files(),
    Path(__file__).resolve().parent / "forms" / "repeats.md",
)


@cache
def form_at(path: Path) -> Form:
    return load_form_file(path)


@cache
def sample_of(path: Path) -> dict[str, Any]:
    if path.parent.name != "forms_bundled":
        return {}
    return load_sample(form_at(path).id)


def form_id(path: Path) -> str:
    return path.stem


# ----- strategies ------------------------------------------------------------------------

ODD_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "\x00",
    "\t\n\r",
    "\u202e\u200b\ufeff",
    "\ud800",  # a lone surrogate, as json.loads gives for "\ud800"
    "NaN",
    "nan",
    "-inf",
    "Infinity",
    "1e309",
    "-0",
    "0x10",
    "1_000",
    "1 500 000",
    "1.500",
    "1,5",
    "1,500.25",
    "1.2.3",
    "9" * 5000,  # beyond Python's int-from-string digit limit
    "1" + "0" * 25,  # beyond what Babel formats
    "١٢٣",  # Arabic-Indic digits
    "𝟙𝟚𝟛",  # mathematical digits
    "2024-02-30",
    "29.02.2023",
    "31/04/2024",
    "0000-00-00",
    "9999-12-31",
    "0001-01-01",
    "05-03-2024",
    "5/3/2024",
    "2024-03-05T10:00:00",
    "12.13.2024",
    "true",
    "false",
    "OK",
    "yes",
    "да",
    "ha",
    "+998 90 123 45 67",
    "998901234567",
    "AA1234567",
    "АА1234567",  # Cyrillic look-alikes
    "40807912553301",
    "12345678901234",
    "Oʻzbekiston",
    "O'zbekiston",
    "O`zbekiston",
    "O‘zbekiston",
    "Oʼzbekiston",
    "Ўзбекистон",
    "Узбекистан",
    "${full_name}",
    "{field}",
    "' or 1=1 --",
    "a b c",
    "yes no",
)

text_values = st.one_of(
    st.sampled_from(ODD_STRINGS),
    st.text(max_size=30),
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.text(st.sampled_from("ʻʼ'`‘’оўқғҳОЎҚҒҲabcxyz0123456789 .,-/\x00\x07\x1b"), max_size=20),
    st.integers(min_value=1000, max_value=20_000).map(lambda n: "x" * n),
)
scalar_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e-300, 1.7e308, 10**25]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    text_values,
)
json_values = st.recursive(
    scalar_values,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
    ),
    max_leaves=10,
)


def _plausible(q: Question) -> st.SearchStrategy[Any]:
    """Values a real citizen (or a sloppy integration) might send for `q`."""
    options: list[st.SearchStrategy[Any]] = [json_values]
    if q.choices:
        names = [c.name for c in q.choices]
        options += [
            st.sampled_from(names),
            st.lists(st.sampled_from(names), max_size=3),
            st.lists(st.sampled_from(names), max_size=3).map(" ".join),
        ]
    if q.type in ("integer", "decimal"):
        # Mostly small: a count of 10**9 makes 500 repeat instances (the engine's cap).
        options += [
            st.integers(-5, 40),
            st.integers(-5, 40).map(str),
            st.sampled_from(["1 500 000", "1.500", "1,5", "-0", 10**9]),
        ]
    if q.type == "date":
        dates = st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31))
        options += [dates.map(dt.date.isoformat), dates.map(lambda d: d.strftime("%d.%m.%Y"))]
    return st.one_of(options)


@st.composite
def answer_dicts(draw: st.DrawFn, path: Path) -> dict[str, Any]:
    """Answers for the form at `path`: the sample with some fields spoilt, or anything."""
    form = form_at(path)
    questions = [q for q in form.walk() if not q.repeats]
    base = copy.deepcopy(sample_of(path)) if draw(st.booleans()) else {}
    for _ in range(draw(st.integers(0, 6))):
        choice = draw(st.integers(0, 3))
        if choice == 0 and base:
            base.pop(draw(st.sampled_from(sorted(base))), None)
        elif choice == 1:
            base[draw(st.text(max_size=10))] = draw(json_values)
        else:
            q = draw(st.sampled_from(questions))
            if q.type == "repeat":
                children = [c for c in form.walk() if c.repeats and c.repeats[-1] == q.name]
                entry = st.dictionaries(
                    st.one_of(st.sampled_from([c.name for c in children]), st.text(max_size=6)),
                    st.deferred(lambda: json_values),
                    max_size=4,
                )
                base[q.name] = draw(st.one_of(st.lists(entry, max_size=3), json_values))
            else:
                base[q.name] = draw(_plausible(q))
    return base


def _known_names(form: Form) -> set[str]:
    return {q.name for q in form.walk()}


def _check_payload_names(form: Form, payload: dict[str, Any]) -> None:
    known = _known_names(form)
    for key, value in payload.items():
        assert key in known, key
        if isinstance(value, list) and form[key].type == "repeat":
            for inst in value:
                assert isinstance(inst, dict)
                _check_payload_names(form, inst)


def _check_errors(errors: list[FieldError]) -> None:
    for error in errors:
        assert isinstance(error, FieldError)
        assert isinstance(error.field, str)
        assert isinstance(error.message, str) and error.message.strip(), error
        assert error.code in CODES, error


# ----- validate_answers --------------------------------------------------------------------


@pytest.mark.parametrize("path", FORM_FILES, ids=form_id)
@FAST
@given(data=st.data())
def test_validate_answers_never_raises(path: Path, data: st.DataObject) -> None:
    form = form_at(path)
    answers = data.draw(answer_dicts(path), label="answers")
    before = repr(answers)
    for lang in LANGS:
        payload, errors = validate_answers(form, answers, lang, today=TODAY)
        assert repr(answers) == before, "validate_answers changed its input"
        assert isinstance(payload, dict)
        _check_errors(errors)
        for error in errors:
            if error.code != "unknown" and error.field:
                # Other errors name a field of the form by its ref ("rep[0]/name").
                last = error.field.rsplit("/", 1)[-1].split("[", 1)[0]
                assert last in _known_names(form), error
        # The payload is JSON with only the form's names, errors or not.
        assert json.loads(json.dumps(payload, allow_nan=False)) == payload
        _check_payload_names(form, payload)
        # The payload is given back as it is (the contract), and a clean one stays clean.
        again, errors_again = validate_answers(form, payload, lang, today=TODAY)
        assert again == payload
        if not errors:
            assert errors_again == []


@pytest.mark.parametrize("path", FORM_FILES, ids=form_id)
@FAST
@given(answers=json_values)
def test_validate_answers_any_json_document(path: Path, answers: Any) -> None:
    """Not even an object: a list, a number, null... one clear error, no exception."""
    payload, errors = validate_answers(form_at(path), answers, "uz_Cyrl", today=TODAY)
    _check_errors(errors)
    if not isinstance(answers, dict):
        assert errors and payload == {}


@pytest.mark.parametrize("path", [p for p in FORM_FILES if p.parent.name == "forms_bundled"])
def test_sample_answers_are_clean(path: Path) -> None:
    """The baseline the spoilt samples start from: every sample validates in every language."""
    for lang in LANGS:
        _, errors = validate_answers(form_at(path), sample_of(path), lang, today=TODAY)
        assert errors == []


@pytest.mark.parametrize("path", FORM_FILES, ids=form_id)
@FAST
@given(data=st.data())
def test_damaged_draft_resumes_what_it_can(path: Path, data: st.DataObject) -> None:
    """A draft row from another version, or damaged on disk, still opens (from_draft's
    promise): a working session, never a crash in front of the citizen."""
    form = form_at(path)
    state: Any = {
        "form_id": form.id,
        "form_version": form.version,
        "answers": data.draw(st.one_of(answer_dicts(path), json_values), label="answers"),
        "position": data.draw(
            st.one_of(
                st.none(),
                st.integers(),
                st.text(max_size=12),
                st.sampled_from([REVIEW, "room[3]/window[#]", "members[0]/member_name", "[]"]),
            ),
            label="position",
        ),
        "lang": data.draw(st.one_of(st.sampled_from(LANGS), json_values), label="lang"),
    }
    if data.draw(st.booleans(), label="drop keys"):
        state = {k: v for k, v in state.items() if data.draw(st.booleans())}
    session = FormSession.from_draft(form, state, today=TODAY)
    index, total = session.progress()
    assert total == 0 or 1 <= index <= total
    json.dumps(session.payload())
    json.dumps(session.draft_state())
    session.review()
    _check_errors(session.validate_all())
    _check_errors(session.next())
    session.back()


def test_review_of_odd_multiple_choice_draft() -> None:
    form = form_at(BUNDLED_DIR / "open_budget_initiative.md")
    session = FormSession.from_draft(form, {"answers": {"support": [None, 1]}}, today=TODAY)
    assert any(item.ref == "support" for item in session.review())


def test_validate_odd_multiple_choice_draft() -> None:
    form = form_at(BUNDLED_DIR / "open_budget_initiative.md")
    session = FormSession.from_draft(form, {"answers": {"support": [[]]}}, today=TODAY)
    errors = session.validate_all()
    assert [e.code for e in errors if e.field == "support"] == ["type"]


# ----- FormSession as a state machine ---------------------------------------------------

raw_inputs = st.one_of(text_values, scalar_values, st.lists(st.text(max_size=5), max_size=3))


class SessionMachine(RuleBasedStateMachine):
    """Random screen operations on a session over a random form; invariants after each."""

    def __init__(self) -> None:
        super().__init__()
        self.path: Path = FORM_FILES[0]
        self.session: FormSession = FormSession(form_at(self.path), today=TODAY)

    @initialize(path=st.sampled_from(FORM_FILES), lang=st.sampled_from(LANGS))
    def start(self, path: Path, lang: str) -> None:
        self.path = path
        self.session = FormSession(form_at(path), lang=lang, today=TODAY)

    # -- helpers --

    def _question_refs(self) -> list[str]:
        return [s.ref for s in self.session.steps() if s.kind == "question"]

    def _good_value(self, ref: str) -> Any:
        """The sample's answer for the question at `ref` (moves the session further)."""
        name = ref.rsplit("/", 1)[-1]
        sample = sample_of(self.path)
        if name in sample:
            return sample[name]
        for value in sample.values():
            if isinstance(value, list):
                for inst in value:
                    if isinstance(inst, dict) and name in inst:
                        return inst[name]
        q = self.session.form.get(name)
        if q is not None and q.choices:
            return q.choices[0].name
        return "12"

    def _checked(self, errors: list[FieldError]) -> list[FieldError]:
        assert isinstance(errors, list)
        _check_errors(errors)
        return errors

    # -- rules --

    @precondition(lambda self: self.session.current is not None)
    @rule(raw=raw_inputs)
    def set_current(self, raw: Any) -> None:
        step = self.session.current
        assert step is not None
        if step.kind == "question":
            self._checked(self.session.set(step.ref, raw))

    @precondition(lambda self: self.session.current is not None)
    @rule()
    def set_current_well(self) -> None:
        step = self.session.current
        assert step is not None
        if step.kind == "question":
            self._checked(self.session.set(step.ref, self._good_value(step.ref)))

    @rule(data=st.data(), good=st.booleans())
    def set_any_step(self, data: st.DataObject, good: bool) -> None:
        refs = self._question_refs()
        if not refs:
            return
        ref = data.draw(st.sampled_from(refs), label="ref")
        raw = self._good_value(ref) if good else data.draw(raw_inputs, label="raw")
        self._checked(self.session.set(ref, raw))

    @rule(add=st.lists(st.booleans(), max_size=6))
    def walk_forward(self, add: list[bool]) -> None:
        """Answer well and go on, as a patient citizen does, adding repeat entries when
        `add` says so: reaches the review and the repeats that random input never does."""
        wishes = iter(add)
        for _ in range(len(self.session.steps()) + 10):
            step = self.session.current
            if step is None:
                event("walk: review")
                return
            if step.kind == "repeat_prompt" and next(wishes, False):
                self.session.add_repeat(step.ref)
                continue
            if step.kind == "question" and step.question.is_input:
                self._checked(self.session.set(step.ref, self._good_value(step.ref)))
            if self._checked(self.session.next()):
                event("walk: refused")
                return

    @rule()
    def next(self) -> None:
        before = self.session.current
        errors = self.session.next()
        self._checked(errors)
        event("next: " + ("refused" if errors else "review" if self.session.at_review else "moved"))
        if errors:
            assert self.session.current == before
            assert before is not None and all(e.field == before.ref for e in errors)

    @rule()
    def back(self) -> None:
        self.session.back()

    @rule(data=st.data())
    def jump(self, data: st.DataObject) -> None:
        ref = data.draw(st.sampled_from([*(s.ref for s in self.session.steps()), REVIEW]))
        self.session.jump(ref)
        if ref == REVIEW:
            assert self.session.at_review
        else:
            current = self.session.current
            assert current is not None and current.ref == ref

    @rule(ref=st.text(max_size=12))
    def jump_nowhere(self, ref: str) -> None:
        if ref == REVIEW or any(s.ref == ref for s in self.session.steps()):
            return
        with pytest.raises(KeyError):
            self.session.jump(ref)

    @rule(lang=st.sampled_from(LANGS))
    def switch_lang(self, lang: str) -> None:
        before = copy.deepcopy(self.session.draft_state()["answers"])
        self.session.lang = lang
        assert self.session.lang == lang
        assert self.session.draft_state()["answers"] == before

    @rule(data=st.data())
    def add_repeat(self, data: st.DataObject) -> None:
        prompts = [s.ref for s in self.session.steps() if s.kind == "repeat_prompt"]
        if not prompts:
            return
        ref = data.draw(st.sampled_from(prompts), label="prompt")
        index = self.session.add_repeat(ref)
        event("repeat added" + (" (nested)" if "/" in ref else ""))
        assert isinstance(index, int) and index >= 0

    @rule(data=st.data())
    def remove_repeat(self, data: st.DataObject) -> None:
        # Instances present now: "rep[i]" prefixes of the current steps' refs.
        instances: set[tuple[str, str, int]] = set()
        for step in self.session.steps():
            parts = step.ref.split("/")[:-1]
            for depth, part in enumerate(parts):
                name, _, index = part.partition("[")
                instances.add(("/".join(parts[:depth]), name, int(index.rstrip("]"))))
        if not instances:
            return
        parent, name, index = data.draw(st.sampled_from(sorted(instances)), label="instance")
        q = self.session.form[name]
        if q.repeat_count:
            return  # a counted repeat's instances follow its count, not the citizen
        self.session.remove_repeat(name, index, parent)
        event("repeat removed" + (" (nested)" if parent else ""))

    @rule()
    def review_and_validate(self) -> None:
        for item in self.session.review():
            assert isinstance(item.label, str) and isinstance(item.display, str)
        self._checked(self.session.validate_all())

    # -- invariants --

    @invariant()
    def progress_within_steps(self) -> None:
        index, total = self.session.progress()
        steps = self.session.steps()
        assert total == len(steps)
        if total:
            assert 1 <= index <= total
        current = self.session.current
        assert current is None or current in steps
        if current is not None:
            assert steps[index - 1] == current

    @invariant()
    def draft_round_trips(self) -> None:
        state = self.session.draft_state()
        text = json.dumps(state)  # JSON-serialisable as it is
        resumed = FormSession.from_draft(self.session.form, json.loads(text), today=TODAY)
        assert resumed.payload() == self.session.payload()
        assert resumed.draft_state() == json.loads(text)
        assert resumed.progress() == self.session.progress()
        assert resumed.current == self.session.current
        assert resumed.lang == self.session.lang

    @invariant()
    def payload_is_json(self) -> None:
        payload = self.session.payload()
        _check_payload_names(self.session.form, payload)
        json.dumps(payload, allow_nan=False)
        for value in _leaves(payload):
            assert not (isinstance(value, float) and not math.isfinite(value))


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


SessionMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    derandomize=CI,
    database=None if CI else settings.default.database,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
test_form_session_state_machine = SessionMachine.TestCase


# ----- huge numbers (they crashed the engine when these properties first ran) ------------

REPEATS_FORM = FORM_FILES[-1]  # tests/forms/repeats.md: `room` repeats ${rooms} times


def test_set_integer_with_5000_digits_is_a_type_error() -> None:
    # int() refuses strings over 4300 digits with a ValueError of its own.
    session = FormSession(form_at(REPEATS_FORM), today=TODAY)
    errors = session.set("rooms", "9" * 5000)
    assert [e.code for e in errors] == ["type"]


def test_huge_repeat_count_is_refused_or_capped() -> None:
    # A count past 1.8e308 was int(inf): OverflowError from FormSession.set.
    for raw in ("9" * 400, 10**400, "1" + "0" * 17):
        session = FormSession(form_at(REPEATS_FORM), today=TODAY)
        errors = session.set("rooms", raw)
        assert all(e.code == "type" for e in errors)
        assert 0 <= session.repeat_count("room") <= 500


def test_review_shows_a_huge_number() -> None:
    # Babel's format_decimal raises decimal.InvalidOperation from 10**25 on.
    session = FormSession(form_at(REPEATS_FORM), today=TODAY)
    session.set("rooms", "1" + "0" * 25)
    assert any(item.ref == "rooms" and item.display for item in session.review())


def test_validate_answers_huge_json_numbers() -> None:
    # float() of a JSON integer over 1.8e308 raised OverflowError.
    for area in (10**400, -(10**400), "9" * 5000, 1e308):
        answers = {"rooms": 1, "room": [{"area": area}]}
        _, errors = validate_answers(form_at(REPEATS_FORM), answers, "ru", today=TODAY)
        _check_errors(errors)
