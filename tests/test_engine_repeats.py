"""Repeats: prompts, adding and removing instances, fixed counts, nesting, sums."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.engine import FormSession
from kiosk.engine_json import validate_answers
from kiosk.form import Form
from kiosk.xlsform_load import load_form

FORMS = Path(__file__).parent / "forms"


@functools.cache
def cached_form(name: str) -> Form:
    """Hypothesis runs a test many times; a function-scoped fixture would not do."""
    return load_form(FORMS / name)


@pytest.fixture(scope="module")
def form() -> Form:
    return load_form(FORMS / "repeats.md")


def refs(s: FormSession) -> list[str]:
    return [step.ref for step in s.steps()]


def add_member(s: FormSession, name: str, age: str) -> int:
    index = s.add_repeat("members")
    assert s.set(f"members[{index}]/member_name", name) == []
    assert s.set(f"members[{index}]/member_age", age) == []
    return index


def test_empty_repeat_starts_with_its_prompt(form: Form) -> None:
    s = FormSession(form)
    assert refs(s) == ["members[#]", "rooms", "summary"]
    step = s.current
    assert step is not None and step.kind == "repeat_prompt" and step.question.name == "members"
    assert s.value("rooms") is None


def test_add_moves_to_the_new_instance_and_prompt_follows(form: Form) -> None:
    s = FormSession(form)
    assert s.add_repeat("members[#]") == 0
    assert s.current.ref == "members[0]/member_name"
    assert s.set("members[0]/member_name", "Ali") == []
    assert s.next() == []
    assert s.set("members[0]/member_age", "12") == []
    assert s.next() == []
    assert s.current.ref == "members[0]/school"  # relevant: the sibling age is under 18
    assert s.next() == []
    assert s.current.ref == "members[#]"
    assert s.next() == []  # declining another one moves on
    assert s.current.ref == "rooms"


def test_sibling_reference_is_per_instance(form: Form) -> None:
    s = FormSession(form)
    add_member(s, "Ali", "12")
    add_member(s, "Olim", "40")
    assert refs(s)[:6] == [
        "members[0]/member_name",
        "members[0]/member_age",
        "members[0]/school",
        "members[1]/member_name",
        "members[1]/member_age",
        "members[#]",
    ]
    assert s.value("members[0]/is_adult") == 0
    assert s.value("members[1]/is_adult") == 1


def test_count_and_sum_across_instances(form: Form) -> None:
    s = FormSession(form)
    add_member(s, "Ali", "12")
    add_member(s, "Olim", "40")
    add_member(s, "Zuhra", "38")
    assert (s.value("member_count"), s.value("adults")) == (3, 2)
    s.remove_repeat("members", 0)
    assert (s.value("member_count"), s.value("adults")) == (2, 2)
    assert s.value("members[0]/member_name") == "Olim"
    payload = s.payload()
    assert [m["member_name"] for m in payload["members"]] == ["Olim", "Zuhra"]
    assert payload["member_count"] == 2


def test_required_inside_instances(form: Form) -> None:
    s = FormSession(form, lang="en")
    s.add_repeat("members")
    errors = s.next()
    assert [(e.field, e.code) for e in errors] == [("members[0]/member_name", "required")]
    assert errors[0].message == "Ismi: this answer is required"


def test_remove_the_instance_being_filled(form: Form) -> None:
    s = FormSession(form)
    add_member(s, "Ali", "30")
    s.add_repeat("members")
    assert s.current.ref == "members[1]/member_name"
    s.remove_repeat("members", 1)
    assert s.current.ref == "members[#]"
    assert len(s.payload()["members"]) == 1
    with pytest.raises(KeyError):
        s.remove_repeat("members", 5)


def test_repeat_count_fixes_instances(form: Form) -> None:
    s = FormSession(form)
    assert s.set("rooms", "2") == []
    assert [r for r in refs(s) if r.startswith("room[")] == [
        "room[0]/area",
        "room[0]/window[#]",
        "room[1]/area",
        "room[1]/window[#]",
    ]
    assert "room[#]" not in refs(s)  # a fixed count never asks to add another
    s.set("room[0]/area", "12,5")
    s.set("room[1]/area", "20")
    assert s.value("total_area") == 32.5
    assert s.label("summary") == "Jami: 32,5"


def test_lowering_the_count_hides_and_raising_restores(form: Form) -> None:
    s = FormSession(form)
    s.set("rooms", "3")
    s.set("room[2]/area", "9")
    s.set("rooms", "1")
    assert [r for r in refs(s) if r.startswith("room[")] == ["room[0]/area", "room[0]/window[#]"]
    assert len(s.payload()["room"]) == 1
    assert s.value("total_area") == 0
    s.set("rooms", "3")
    assert s.value("room[2]/area") == 9.0
    assert s.value("total_area") == 9


def test_blank_extra_instances_are_not_kept(form: Form) -> None:
    s = FormSession(form)
    s.set("rooms", "40")
    s.set("rooms", "2")
    assert len(s.draft_state()["answers"]["room"]) == 2


def test_nested_repeat_reads_the_enclosing_instance(form: Form) -> None:
    s = FormSession(form, lang="en")
    s.set("rooms", "2")
    s.set("room[0]/area", "1,5")
    s.set("room[1]/area", "3")
    assert s.add_repeat("room[0]/window[#]") == 0
    assert s.current.ref == "room[0]/window[0]/width"
    assert s.value("room[0]/window[0]/width") == 100  # default of a new instance
    # width <= area * 100 uses this room's area (1.5), not the other room's.
    assert [e.code for e in s.set("room[0]/window[0]/width", "200")] == ["constraint"]
    assert s.set("room[0]/window[0]/width", "150") == []
    assert s.add_repeat("window", parent="room[1]") == 0
    assert s.set("room[1]/window[0]/width", "250") == []
    payload = s.payload()
    assert payload["room"] == [
        {"area": 1.5, "window": [{"width": 150}]},
        {"area": 3.0, "window": [{"width": 250}]},
    ]


def test_repeat_review_labels_number_the_instances(form: Form) -> None:
    s = FormSession(form, lang="ru")
    add_member(s, "Ali", "30")
    add_member(s, "Vali", "31")
    labels = [i.label for i in s.review() if i.ref.startswith("members")]
    assert labels[:2] == ["Имя (Член семьи 1)", "Возраст (Член семьи 1)"]
    assert labels[2] == "Имя (Член семьи 2)"


def test_repeat_draft_round_trip(form: Form) -> None:
    s = FormSession(form)
    add_member(s, "Ali", "12")
    s.set("rooms", "1")
    s.add_repeat("room[0]/window[#]")
    state = json.loads(json.dumps(s.draft_state()))
    restored = FormSession.from_draft(form, state)
    assert restored.draft_state() == s.draft_state()
    assert restored.current.ref == "room[0]/window[0]/width"
    assert restored.payload() == s.payload()


def test_validate_answers_with_repeats(form: Form) -> None:
    answers = {
        "members": [
            {"member_name": "Ali", "member_age": 12, "school": "5-maktab"},
            {"member_name": "Olim", "member_age": 40, "school": "ignored: not relevant"},
        ],
        "rooms": 2,
        "room": [{"area": 12.5, "window": [{"width": 100}]}, {"area": 20}],
    }
    payload, errors = validate_answers(form, answers, "en")
    assert errors == []
    assert payload["members"][1] == {"member_name": "Olim", "member_age": 40, "is_adult": 1}
    assert payload["adults"] == 1 and payload["member_count"] == 2
    assert payload["total_area"] == 32.5
    assert validate_answers(form, payload, "en") == (payload, [])


def test_validate_answers_repeat_errors(form: Form) -> None:
    answers = {
        "members": [{"member_name": "Ali", "nickname": "A"}, "not an object"],
        "rooms": 2,
        "room": [{"area": 10}],
    }
    _, errors = validate_answers(form, answers, "en")
    got = {(e.field, e.code) for e in errors}
    assert ("members", "type") in got
    answers["members"] = [{"member_name": "Ali", "nickname": "A"}]
    _, errors = validate_answers(form, answers, "en")
    got = {(e.field, e.code) for e in errors}
    assert ("members[0]/nickname", "unknown") in got
    assert ("members[0]/member_age", "required") in got
    assert ("room", "count") in got
    assert any(e.message == "Xona: expected 2 entries" for e in errors)


def test_removing_an_earlier_instance_keeps_the_position(form: Form) -> None:
    s = FormSession(form)
    add_member(s, "Ali", "30")
    add_member(s, "Vali", "31")
    s.jump("members[1]/member_age")
    s.remove_repeat("members", 0)
    assert s.current.ref == "members[0]/member_age"
    assert s.value(s.current.ref) == 31


def test_fixed_count_repeat_cannot_be_added_to(form: Form) -> None:
    s = FormSession(form)
    s.set("rooms", "1")
    with pytest.raises(ValueError):
        s.add_repeat("room")
    with pytest.raises(KeyError):
        s.add_repeat("window")  # nested: needs the enclosing instance
    with pytest.raises(KeyError):
        s.add_repeat("rooms")  # not a repeat


_ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["add", "remove", "set", "next", "back"]),
        st.integers(min_value=0, max_value=3),
        st.sampled_from(["", "Ali", "12", "40", "2", "1,5", "-3", "x"]),
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(actions=_ACTIONS)
def test_random_edits_round_trip_and_agree_with_json(actions: list[tuple[str, int, str]]) -> None:
    form = cached_form("repeats.md")
    s = FormSession(form, lang="en")
    for action, n, raw in actions:
        if action == "add":
            s.add_repeat("members")
        elif action == "remove" and s.repeat_count("members") > n:
            s.remove_repeat("members", n)
        elif action == "set":
            inputs = [x for x in s.steps() if x.kind == "question" and x.question.is_input]
            s.set(inputs[n % len(inputs)].ref, raw)
        elif action == "next":
            s.next()
        elif action == "back":
            s.back()
    restored = FormSession.from_draft(form, json.loads(json.dumps(s.draft_state())))
    assert restored.draft_state() == s.draft_state()
    assert restored.payload() == s.payload()
    payload, errors = validate_answers(form, s.payload(), "en")
    if not s.validate_all():
        assert errors == [] and payload == s.payload()
    else:
        assert errors


@pytest.mark.parametrize(
    "state",
    [
        None,
        [],
        {"answers": "junk", "lang": "xx", "position": 5},
        {"answers": {"members": "junk", "rooms": 1, "room": [1, {"area": 2}]}},
        {"answers": {"members": [{"member_name": "Ali"}, "x"]}, "position": "members[7]/x"},
    ],
)
def test_damaged_draft_resumes_what_it_can(form: Form, state: object) -> None:
    s = FormSession.from_draft(form, state)  # type: ignore[arg-type]
    assert s.lang == "uz_Latn"
    assert isinstance(s.steps(), list)
    s.validate_all()
    json.dumps(s.payload())
    json.dumps(s.draft_state())


def test_repeat_count_is_capped(form: Form) -> None:
    s = FormSession(form)
    s.set("rooms", "100000")  # a typo must not make a hundred thousand rooms
    assert s.repeat_count("room") == 500
    s.set("rooms", "2")
    assert s.repeat_count("room") == 2
    assert len(s.draft_state()["answers"]["room"]) == 2
