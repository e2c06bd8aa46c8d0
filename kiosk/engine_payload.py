"""A session's answers as JSON and back: the payload of what is relevant (for the
outbox and the portal), and a draft's stored answers as engine values again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

from kiosk.engine_eval import Evaluator
from kiosk.engine_model import Answers, fields, instances_of, walk
from kiosk.engine_values import is_empty, to_json
from kiosk.form import Question

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def payload(evaluator: Evaluator) -> dict[str, object]:
    """Relevant answers (and calculations) as JSON: groups flattened, repeats as lists of
    objects, notes and empty answers left out. It does not check them."""
    hidden, counts = evaluator.hidden, evaluator.counts
    top: dict[str, object] = {}
    out: dict[str, dict[str, object]] = {"": top}  # the output object of each instance ref
    for node in walk(
        evaluator.form.questions,
        evaluator.answers,
        skip=lambda n: n.ref in hidden,
        instances=lambda n: counts.get(n.ref, 0),
    ):
        q = node.question
        target = out[node.ref.rpartition("/")[0]]  # the object of the instance it is in
        if q.type == "repeat":
            active = instances_of(node.container, q.name)[: counts.get(node.ref, 0)]
            objects: list[dict[str, object]] = []
            target[q.name] = objects
            for i in range(len(active)):  # filled as the walk enters each instance
                out[node.instance_ref(i)] = {}
                objects.append(out[node.instance_ref(i)])
        elif q.type not in ("group", "note"):
            value = node.container.get(q.name)
            if not is_empty(value):
                target[q.name] = to_json(value)
    return top


def answers_from_json(questions: Sequence[Question], data: Mapping[str, object]) -> Answers:
    """JSON answers (a draft) back to engine values: ISO dates to `date`, repeats recursively.
    Anything else stays as stored (raw invalid input included), so drafts round-trip."""
    by_name = fields(questions)
    out: Answers = {}
    for key, value in data.items():
        q = by_name.get(key)
        if q is not None and q.type == "repeat":
            # Only objects can be instances; anything else in a damaged draft is dropped.
            if isinstance(value, list):
                out[key] = [answers_from_json(q.children, v) for v in value if isinstance(v, dict)]
        elif (
            q is not None and q.type == "date" and isinstance(value, str) and _ISO.fullmatch(value)
        ):
            try:
                out[key] = dt.date.fromisoformat(value)
            except ValueError:
                out[key] = value
        else:
            out[key] = value
    return out
