"""Once-only prefill (issue 16, docs/once-only.md): the registry fields a form may name,
and the ``prefill`` section a prefilled submission carries.

A form's ``prefill`` column names one of `FIELDS` (``person.full_name``...); the kiosk
asks the portal for exactly the names its form carries, and the portal answers with
those only. The names are the contract between forms, kiosk and portal, so they live
here, in the domain layer, once: the form model checks them (`problems`), the portal's
registry (`sync.portal.registry`) maps each to what it holds.

A prefilled submission's payload carries, beside the answers, a section under
`PAYLOAD_KEY`: the look-up's id (which links the portal's access log to the
application) and, per prefilled question, the registry field, the value the registry
gave and the answer submitted (`section`), so a correction travels with the original.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Protocol, TypedDict

# The registry fields, in the order a person's record lists them.
FIELDS: tuple[str, ...] = (
    "person.full_name",
    "person.birth_date",
    "person.address",
    "person.phone",
    "person.benefit_status",
    "person.family",
)

# Which question types each field may fill (a family is a list: said as one line).
FIELD_TYPES: dict[str, tuple[str, ...]] = {
    "person.full_name": ("text",),
    "person.birth_date": ("date", "text"),
    "person.address": ("text",),
    "person.phone": ("text",),
    "person.benefit_status": ("text", "select_one"),
    "person.family": ("text",),
}

# The benefit statuses the synthetic registry holds (a real registry's codes would be
# mapped onto these by its adapter).
BENEFIT_STATUSES: tuple[str, ...] = (
    "none",
    "pensioner",
    "disability",
    "low_income_family",
    "child_allowance",
)

# Why the kiosk asks: the one purpose the portal accepts today (and logs).
PURPOSE = "application_prefill"
PURPOSES: tuple[str, ...] = (PURPOSE,)
# How the citizen's identity was established: the operator looked at the ID document.
ID_CHECK = "operator_id_check"
DOCUMENTS: tuple[str, ...] = ("id_card", "passport")
# The payload's section (a question may not carry this name in a form that prefills).
PAYLOAD_KEY = "prefill"


class PrefillQuestion(Protocol):
    """What the checks read of a question (`kiosk.form.Question`)."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def prefill(self) -> str | None: ...
    @property
    def repeats(self) -> tuple[str, ...]: ...


def suggestion(name: str) -> str | None:
    """The known field closest to a mistyped one, if any is close."""
    close = difflib.get_close_matches(name.strip(), FIELDS, n=1, cutoff=0.6)
    if not close and "." not in name:
        close = difflib.get_close_matches(f"person.{name.strip()}", FIELDS, n=1, cutoff=0.6)
    return close[0] if close else None


def field_problem(name: str, qtype: str) -> str | None:
    """What is wrong with ``prefill`` = ``name`` on a question of type ``qtype`` (English,
    for the form's author), or None."""
    if name not in FIELDS:
        near = suggestion(name)
        hint = f"; did you mean '{near}'?" if near else ""
        return f"unknown registry field '{name}'{hint} (known: {', '.join(FIELDS)})"
    if qtype not in FIELD_TYPES[name]:
        allowed = " / ".join(FIELD_TYPES[name])
        return f"'{name}' cannot fill a question of type {qtype} (only: {allowed})"
    return None


def problems(questions: Iterable[PrefillQuestion]) -> list[str]:
    """Every prefill problem of a form's questions: unknown fields, wrong types, a field
    inside a repeat (one person's record fills one answer), a field named twice, and a
    question named like the payload's section."""
    found: list[str] = []
    seen: dict[str, str] = {}
    listed = list(questions)
    for q in listed:
        if not q.prefill:
            continue
        problem = field_problem(q.prefill, q.type)
        if problem is None and q.repeats:
            problem = f"'{q.prefill}' cannot fill a question inside a repeat"
        if problem is None and q.prefill in seen:
            problem = f"'{q.prefill}' already fills {seen[q.prefill]}"
        if problem is not None:
            found.append(f"question '{q.name}': prefill: {problem}")
        seen.setdefault(q.prefill, q.name)
    if seen and any(q.name == PAYLOAD_KEY for q in listed):
        found.append(f"question '{PAYLOAD_KEY}': the name is reserved in a form that prefills")
    return found


def form_fields(questions: Iterable[PrefillQuestion]) -> dict[str, str]:
    """{question name: registry field} of a form's prefilled questions, in form order."""
    return {q.name: q.prefill for q in questions if q.prefill and not q.repeats}


class FamilyLine(TypedDict):
    relation: str
    full_name: str
    birth_date: str


def as_answer(field: str, value: object) -> str:
    """A registry value as the raw answer the form engine parses (``FormSession.set``):
    text as it is, a family as one line ("Name (relation, 2012-06-07); ...")."""
    if field == "person.family" and isinstance(value, list):
        parts = []
        for member in value:
            if isinstance(member, Mapping):
                name = str(member.get("full_name") or "")
                relation = str(member.get("relation") or "")
                born = str(member.get("birth_date") or "")
                parts.append(f"{name} ({relation}, {born})")
        return "; ".join(parts)
    return "" if value is None else str(value)


class PrefilledField(TypedDict):
    """One prefilled question in the payload's section."""

    field: str  # the registry field (kiosk.prefill.FIELDS)
    registry: object  # the value the registry gave, as received
    answer: object  # the answer submitted (the payload's), None if left out
    corrected: bool  # whether the answer differs from the registry's value


class Section(TypedDict):
    """The payload's `PAYLOAD_KEY` section."""

    lookup_id: str
    fields: dict[str, PrefilledField]


def section(
    lookup_id: str,
    registry: Mapping[str, tuple[str, object, object]],
    payload: Mapping[str, object],
) -> Section:
    """The section for a submission: ``registry`` is {question: (field, the registry's
    value, the answer as filled from it)} of the questions the look-up filled (the
    answer as filled is the payload's form of the value: normalised text, an ISO date),
    ``payload`` the answers submitted; an answer that differs was corrected."""
    fields: dict[str, PrefilledField] = {}
    for question, (field, value, as_filled) in registry.items():
        answer = payload.get(question)
        fields[question] = {
            "field": field,
            "registry": value,
            "answer": answer,
            "corrected": answer is None or answer != as_filled,
        }
    return {"lookup_id": lookup_id, "fields": fields}


def split(payload: Mapping[str, object]) -> tuple[dict[str, object], object]:
    """(the answers, the prefill section or None) of a payload as received."""
    answers = {k: v for k, v in payload.items() if k != PAYLOAD_KEY}
    return answers, payload.get(PAYLOAD_KEY)


def section_problem(found: object, prefilled: Mapping[str, str]) -> str | None:
    """What is wrong with a received section (English, no values), or None; ``prefilled``
    is the form's {question: field} (`form_fields`)."""
    if found is None:
        return None
    if not isinstance(found, Mapping):
        return "prefill: not an object"
    lookup_id = found.get("lookup_id")
    if not isinstance(lookup_id, str) or not 1 <= len(lookup_id) <= 64:
        return "prefill: lookup_id"
    fields = found.get("fields")
    if not isinstance(fields, Mapping):
        return "prefill: fields"
    for question, entry in fields.items():
        if prefilled.get(question) is None:
            return f"prefill: {question}: not a prefilled question of the form"
        if not isinstance(entry, Mapping) or entry.get("field") != prefilled[question]:
            return f"prefill: {question}: field"
        if "registry" not in entry or not isinstance(entry.get("corrected"), bool):
            return f"prefill: {question}: registry"
    return None


def lookup_id_of(payload: Mapping[str, object]) -> str | None:
    """The look-up id a payload's section names, if it has a well-formed one."""
    found = payload.get(PAYLOAD_KEY)
    if isinstance(found, Mapping):
        lookup_id = found.get("lookup_id")
        if isinstance(lookup_id, str) and 1 <= len(lookup_id) <= 64:
            return lookup_id
    return None
