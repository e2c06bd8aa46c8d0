"""Where a citizen is in a form: the steps (relevant, visible questions and repeat
prompts in order), the position among them, moving, and adding or removing repeat
instances with the position following them.

The position is a step ref (or `REVIEW`); a position whose step went away (made
non-relevant) falls to the next step after it in document order.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.engine_eval import Evaluator
from kiosk.engine_model import (
    SEGMENT,
    Answers,
    Node,
    instances_of,
    parse_ref,
    prefix_of,
    repeat_container,
    split_repeat_ref,
    walk,
)
from kiosk.form import Question

REVIEW = "#review"  # position past the last step; '#' cannot start a field name


@dataclass(frozen=True)
class Step:
    """One screen: a question (or note) at `ref`, or the "add another?" prompt of a repeat."""

    ref: str
    question: Question
    kind: str  # "question" | "repeat_prompt"


class Navigator:
    """The steps of the evaluator's answers and a position among them."""

    def __init__(self, evaluator: Evaluator, position: str | None = None) -> None:
        self._eval = evaluator
        self._form = evaluator.form
        self.position = position
        self.steps: list[Step] = []

    def refresh(self) -> None:
        """After any change to the answers: derived state, then the steps."""
        self._eval.recompute()
        hidden, counts = self._eval.hidden, self._eval.counts
        steps: list[Step] = []
        for node in walk(
            self._form.questions,
            self._eval.answers,
            skip=lambda n: n.ref in hidden or n.question.type == "calculate",
            instances=lambda n: counts.get(n.ref, 0),
            repeat_ends=True,
        ):
            steps += _steps_of(node)
        self.steps = steps

    # ----- position --------------------------------------------------------------------

    def current_index(self) -> int | None:
        """Index of the position in the steps; None at the review (or past the end)."""
        if not self.steps or self.position == REVIEW:
            return None
        if self.position is None:
            return 0
        for i, step in enumerate(self.steps):
            if step.ref == self.position:
                return i
        key = self._order_key(self.position)
        for i, step in enumerate(self.steps):
            if self._order_key(step.ref) > key:
                return i
        return None

    @property
    def current(self) -> Step | None:
        index = self.current_index()
        return self.steps[index] if index is not None else None

    def progress(self) -> tuple[int, int]:
        total = len(self.steps)
        index = self.current_index()
        return (total if index is None else index + 1, total)

    def advance(self) -> None:
        """To the step after the current one, or the review."""
        index = self.current_index()
        if index is None or index + 1 >= len(self.steps):
            self.position = REVIEW
        else:
            self.position = self.steps[index + 1].ref

    def back(self) -> None:
        if not self.steps:
            return
        index = self.current_index()
        if index is None:  # at review (or past the end): the last step
            self.position = self.steps[-1].ref
        else:
            self.position = self.steps[max(index - 1, 0)].ref

    def jump(self, ref: str) -> None:
        """Go to a step (from the review); KeyError for a ref that is not a current step."""
        if ref != REVIEW and not any(step.ref == ref for step in self.steps):
            raise KeyError(ref)
        self.position = ref

    def _order_key(self, ref: str) -> tuple[float, ...]:
        """Document order of a ref: question orders and instance indices, interleaved;
        a repeat's prompt sorts after all its instances."""
        try:
            path, last = parse_ref(ref)
        except KeyError:
            return (float("inf"),)

        def order(name: str) -> float:
            q = self._form.get(name)
            return q.order if q is not None else float("inf")

        key: list[float] = []
        for name, index in path:
            key += [order(name), index]
        m = SEGMENT.match(last)
        key += [order(m.group(1)), float("inf")] if m else [order(last)]
        return tuple(key)

    # ----- repeat instances ----------------------------------------------------------------

    def add_repeat(self, name: str, parent: str = "") -> int:
        """A new instance of repeat `name`; the position moves to its first step.

        `name` may be the prompt's ref ("rep[#]", "outer[0]/inner[#]"); for a nested
        repeat given by name, `parent` is the enclosing instance ("outer[0]").
        Returns the new instance's index. A repeat_count repeat cannot grow by hand.
        """
        name, parent = split_repeat_ref(name, parent)
        q = self._form.get(name)
        if q is None or q.type != "repeat":
            raise KeyError(name)
        if q.repeat_count:
            raise ValueError(f"{name}: the number of entries is fixed by repeat_count")
        container, scope = repeat_container(self._form, self._eval.answers, name, parent)
        instances = container.get(name)
        if not isinstance(instances, list):
            instances = container[name] = []
        index = len(instances)
        instance: Answers = {}
        self._eval.apply_defaults(q.children, instance, (*scope, (name, index)))
        instances.append(instance)
        self.refresh()
        first = f"{prefix_of(parent)}{name}[{index}]/"
        for step in self.steps:
            if step.ref.startswith(first):
                self.position = step.ref
                break
        return index

    def remove_repeat(self, name: str, index: int, parent: str = "") -> None:
        """Delete instance `index` of repeat `name` (named as in `add_repeat`).

        A position inside it moves to the instance that takes its place (or the prompt);
        a position in a later instance follows that instance's new index.
        """
        name, parent = split_repeat_ref(name, parent)
        container, _ = repeat_container(self._form, self._eval.answers, name, parent)
        instances = instances_of(container, name)
        if not 0 <= index < len(instances):
            raise KeyError(f"{name}[{index}]")
        del instances[index]
        self.refresh()
        head = f"{prefix_of(parent)}{name}["
        pos = self.position or ""
        if not pos.startswith(head):
            return
        number, _, tail = pos[len(head) :].partition("]")
        if not number.isdigit() or int(number) < index:
            return
        if int(number) > index:
            self.position = f"{head}{int(number) - 1}]{tail}"
            return
        # Inside the removed instance: the first step of the one now at its index.
        following = [s.ref for s in self.steps if s.ref.startswith(f"{head}{index}]/")]
        prompt = f"{head}#]"
        if following:
            self.position = following[0]
        elif any(s.ref == prompt for s in self.steps):
            self.position = prompt


def _steps_of(node: Node) -> list[Step]:
    """The step a walked node makes: a question (notes and read-only ones too), or a
    repeat's prompt after its instances (none when repeat_count fixes the number)."""
    q = node.question
    if q.type == "group":
        return []
    if q.type == "repeat":
        if node.end and not q.repeat_count:
            return [Step(f"{node.ref}[#]", q, "repeat_prompt")]
        return []
    return [Step(node.ref, q, "question")]
