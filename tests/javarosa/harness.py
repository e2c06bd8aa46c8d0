"""Differential testing of the kiosk engine against JavaRosa (the engine of ODK Collect).

One JVM runs a whole batch of (form, answer set) cases through ``Driver.java`` (compiled
once per source version into a cache folder, against the JavaRosa inside pyxform's
ODK_Validate.jar). The same answer sets go through ``kiosk.engine.FormSession``; every
decision is compared: relevance of each node, required, constraint validity, each
node's value (calculations included) and which answers the submission keeps (a
non-relevant answer is dropped by both). Differences the kiosk makes on purpose are
named in ``known_differences.json`` (and docs/forms.md), each with a rule below that
recognises it; anything else is an unexplained difference and fails the test.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import json
import math
import os
import random
import re
import re._parser as _sre_parse
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyxform
from pyxform.builder import create_survey_element_from_dict

from kiosk.engine import FormSession
from kiosk.engine_model import walk
from kiosk.engine_values import is_empty
from kiosk.expr.lexer import NUM, STR, tokenize
from kiosk.form import Form, Question
from kiosk.xlsform_load import load_spec, read_sheets, sheets_to_json

HERE = Path(__file__).parent
DRIVER = HERE / "Driver.java"
KNOWN = HERE / "known_differences.json"
JAR = Path(pyxform.__file__).parent / "validators" / "odk_validate" / "bin" / "ODK_Validate.jar"

Answers = dict[str, str]  # JavaRosa path (/data/group/x) -> raw text as typed


class NotComparable(ValueError):
    """A form the two engines cannot be compared on, node by node (the reason says why)."""


class JavaMissing(RuntimeError):
    """No java/javac on this machine."""


# ----- the Java side --------------------------------------------------------------------


def compiled_driver(cache: Path) -> Path:
    """The folder of Driver.class, compiled once per (Driver.java, jar) version."""
    if shutil.which("java") is None or shutil.which("javac") is None:
        raise JavaMissing("java and javac are needed (scripts/setup installs a JDK)")
    key = hashlib.sha256(DRIVER.read_bytes() + str(JAR.stat().st_size).encode()).hexdigest()
    out = cache / f"driver-{key[:16]}"
    if not (out / "Driver.class").exists():
        out.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["javac", "-nowarn", "-cp", str(JAR), "-d", str(out), str(DRIVER)],
            check=True,
            capture_output=True,
        )
    return out


@dataclass
class Case:
    id: str
    form: str  # the form's name, for reports
    xform: Path
    media: Path
    answers: Answers


def run_javarosa(cases: list[Case], classes: Path) -> dict[str, dict[str, object]]:
    """Every case through one JVM: case id -> the driver's JSON object."""
    lines: list[str] = []
    for c in cases:
        lines.append(f"CASE\t{c.id}\t{c.xform}\t{c.media}")
        for path, value in c.answers.items():
            lines.append(f"A\t{path}\t{base64.b64encode(value.encode()).decode()}")
        lines.append("RUN")
    proc = subprocess.run(
        ["java", "-Xss4m", "-cp", f"{JAR}{os.pathsep}{classes}", "Driver"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the JavaRosa driver failed: {proc.stderr[-2000:]}")
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return {str(r["case"]): r for r in results}


# ----- forms as XForms ------------------------------------------------------------------


def to_xform(path: Path, out: Path) -> tuple[Path, Path]:
    """The XForm of an XLSForm (pyxform), and a media folder with its CSV files in the
    shape JavaRosa reads (a plain ``label`` column when the file has only translations)."""
    spec = sheets_to_json(read_sheets(path))
    title = spec.get("title")
    if isinstance(title, dict):  # pyxform's XML writer wants one title
        spec["title"] = next(iter(title.values()), "form")
    survey = create_survey_element_from_dict(spec)
    stem = re.sub(r"[^\w.-]", "_", path.stem)
    xform = out / f"{stem}.xml"
    xform.write_text(survey.to_xml(validate=False, pretty_print=False), encoding="utf-8")
    media = out / f"{stem}-media"
    media.mkdir(exist_ok=True)
    for source in path.parent.glob("*.csv"):
        _copy_csv(source, media / source.name)
    return xform, media


def _copy_csv(source: Path, target: Path) -> None:
    with source.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    if rows and "label" not in rows[0]:
        header = rows[0]
        first = next((i for i, h in enumerate(header) if h.startswith("label::")), None)
        if first is not None:
            rows = [[*r, r[first] if first < len(r) else ""] for r in rows[1:]]
            rows.insert(0, [*header, "label"])
    with target.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


# ----- the kiosk side -------------------------------------------------------------------


@dataclass
class Field:
    question: Question
    path: str  # JavaRosa's
    ref: str  # the kiosk's


def fields(form: Form, root: str = "/data") -> list[Field]:
    """The form's nodes outside repeats, in document order, with both engines' names."""
    out: list[Field] = []

    def visit(qs: list[Question], prefix: str) -> None:
        for q in qs:
            if q.type == "repeat":
                continue
            out.append(Field(q, f"{prefix}/{q.name}", q.name))
            if q.type == "group":
                visit(q.children, f"{prefix}/{q.name}")

    visit(form.questions, root)
    return out


def kiosk_decisions(form: Form, answers: Answers) -> dict[str, dict[str, object]]:
    """The kiosk's decisions in the driver's shape: path -> relevant, required, value,
    constraint (when answered), kept (in the payload)."""
    session = FormSession(form)
    by_path = {f.path: f for f in fields(form)}
    for path, raw in answers.items():
        f = by_path.get(path)
        if f is not None:
            session.set(f.ref, raw)
    evaluator = session._eval  # noqa: SLF001 - the test reads the engine's own decisions
    kept = set(session.payload())
    out: dict[str, dict[str, object]] = {}
    for node in walk(form.questions, session.answers):
        if node.question.repeats or node.question.type == "repeat":
            continue
        f = by_path.get(_path_of(form, node.question))
        if f is None:
            continue
        q = node.question
        value = node.container.get(q.name)
        d: dict[str, object] = {
            "relevant": session.is_relevant(f.ref),
            "required": evaluator.is_required(q, node.scope) if q.is_input else None,
            "value": None if is_empty(value) else _as_text(value),
            "kept": q.name in kept,
        }
        if q.constraint and not is_empty(value):
            d["constraint"] = evaluator.accepts(q, node.scope, value)
        out[f.path] = d
    return out


def stored_answers(form: Form, answers: Answers) -> Answers:
    """The text answers as the kiosk stores them (trimmed; the Uzbek kinds normalised;
    whitespace-only gone), the others as typed: the twin case JavaRosa also runs."""
    session = FormSession(form)
    out: Answers = {}
    by_path = {f.path: f for f in fields(form)}
    for path, raw in answers.items():
        f = by_path.get(path)
        if f is None or f.question.type != "text":
            out[path] = raw
            continue
        session.set(f.ref, raw)
        value = session.value(f.ref)
        if not is_empty(value):
            out[path] = _as_text(value)
    return out


def _path_of(form: Form, q: Question) -> str:
    return next(f.path for f in fields(form) if f.question is q)


def _as_text(value: object) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ----- answer sets ----------------------------------------------------------------------

_TEXTS = ["abc", "12345", "١٢٣٤٥", "AB1234567", "+998901234567", "a.b-c@d.uz", "Ali Valiyev"]
_NUMBERS = [0, 1, -1, 2, 3, 5, 17, 18, 65, 100, 1000, 2.5]
_DATES = ["1990-05-20", "2020-01-01", "2024-02-29", "2035-06-15"]


def literals(form: Form) -> tuple[set[str], set[float]]:
    """The string and number literals of every expression of the form."""
    strings: set[str] = set()
    numbers: set[float] = set()
    for q in form.walk():
        for text in (q.constraint, q.relevant, q.required, q.calculation, q.choice_filter):
            if not text:
                continue
            try:
                tokens = tokenize(text)
            except Exception:  # noqa: BLE001 - a broken expression gives no literals
                continue
            for t in tokens:
                if t.kind == STR:
                    strings.add(t.value)
                elif t.kind == NUM:
                    numbers.add(float(t.value))
    return strings, numbers


def candidates(q: Question, strings: set[str], numbers: set[float]) -> list[str]:
    """Values worth typing into ``q``: each literal the form compares with, one either
    side of each number, and a few of each type (whitespace-only text among them)."""
    if q.type in ("integer", "decimal"):
        nums = {*numbers, *(n + 1 for n in numbers), *(n - 1 for n in numbers), *_NUMBERS}
        if q.type == "integer":
            nums = {n for n in nums if float(n).is_integer()}
        return sorted({_as_text(float(n)) for n in nums if abs(n) < 1e9})
    if q.type == "date":
        found = [s for s in strings if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s)]
        return sorted({*_DATES, *found, dt.date.today().isoformat()})
    if q.type == "select_one":
        return [c.name for c in q.choices] or ["x"]
    if q.type == "select_multiple":
        names = [c.name for c in q.choices]
        return [" ".join(names[i : i + k]) for k in (1, 2) for i in range(len(names))] or ["x"]
    if q.type == "acknowledge":
        return ["OK"]
    if q.type == "text":
        lengths = {int(n) + d for n in numbers if 0 < n < 200 for d in (-1, 0)}
        examples = {e for t in strings if (e := regex_example(t))}
        # The same with an Arabic-Indic digit in place of the first ASCII one: \d is
        # ASCII in both engines, so only the first of the pair may pass.
        near = {re.sub(r"[0-9]", "\u0663", e, count=1) for e in examples}
        # ... and inside a longer text: found by a search, refused by a full match.
        near |= {f"x{e}" for e in examples if e}
        return sorted({*strings, *_TEXTS, "   ", *examples, *near, *("x" * n for n in lengths)})
    return []


def regex_example(pattern: str) -> str | None:
    """One text the pattern matches in full (the shortest repetition, the first branch
    and class member), so a regex() constraint can come out true; None when Python's
    parser refuses the pattern (a Java-only spelling: then no example)."""
    try:
        parsed = _sre_parse.parse(pattern)
    except Exception:  # noqa: BLE001 - not a pattern Python reads
        return None
    try:
        return _example(list(parsed))
    except (ValueError, IndexError, TypeError):
        return None


def _example(items: list[tuple[object, object]]) -> str:
    out: list[str] = []
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(av))  # type: ignore[arg-type]
        elif name == "NOT_LITERAL":
            out.append("a" if av != ord("a") else "b")
        elif name == "ANY":
            out.append("a")
        elif name == "IN":
            out.append(_member(av))  # type: ignore[arg-type]
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):
            lo, _hi, sub = av  # type: ignore[misc]
            out.append(_example(list(sub)) * max(int(lo), 1 if int(lo) == 0 else int(lo)))
        elif name == "SUBPATTERN":
            out.append(_example(list(av[-1])))  # type: ignore[index]
        elif name == "BRANCH":
            out.append(_example(list(av[1][0])))  # type: ignore[index]
        elif name == "AT":
            continue
        elif name == "CATEGORY":
            out.append(_category(str(av)))
        else:
            raise ValueError(name)
    return "".join(out)


def _member(members: list[tuple[object, object]]) -> str:
    if members and str(members[0][0]) == "NEGATE":
        return "~"
    op, av = members[0]
    if str(op) == "LITERAL":
        return chr(av)  # type: ignore[arg-type]
    if str(op) == "RANGE":
        return chr(av[0])  # type: ignore[index]
    if str(op) == "CATEGORY":
        return _category(str(av))
    raise ValueError(op)


def _category(name: str) -> str:
    return {"CATEGORY_DIGIT": "0", "CATEGORY_SPACE": " ", "CATEGORY_WORD": "a"}.get(name, "a")


def answer_sets(form: Form, n: int, seed: str) -> list[Answers]:
    """``n`` answer sets, chosen so that each relevant, required and constraint
    expression comes out both true and false where the candidates can make it so:
    random sets (seeded) are kept first when they add an outcome not seen yet."""
    strings, numbers = literals(form)
    inputs = [
        f
        for f in fields(form)
        if f.question.is_input and not f.question.calculation and not f.question.read_only
    ]
    pools = {f.path: candidates(f.question, strings, numbers) for f in inputs}
    rng = random.Random(seed)
    seen: set[tuple[str, str, object]] = set()
    chosen: list[Answers] = []
    spare: list[Answers] = []
    for _ in range(max(n * 6, 60)):
        answers = {
            f.path: rng.choice(pools[f.path])
            for f in inputs
            if pools[f.path] and rng.random() < 0.85
        }
        new = outcomes(form, answers) - seen
        if new and len(chosen) < n:
            seen |= new
            chosen.append(answers)
        else:
            spare.append(answers)
    return chosen + spare[: n - len(chosen)]


def outcomes(form: Form, answers: Answers) -> set[tuple[str, str, object]]:
    """(path, decision, value) of each relevant/required/constraint decision."""
    out: set[tuple[str, str, object]] = set()
    for path, d in kiosk_decisions(form, answers).items():
        out.add((path, "relevant", d["relevant"]))
        if d.get("required") is not None:
            out.add((path, "required", d["required"]))
        if "constraint" in d:
            out.add((path, "constraint", d["constraint"]))
    return out


def coverage(form: Form, sets: Iterable[Answers]) -> tuple[int, int]:
    """(expressions made both true and false, expressions) over ``sets``."""
    seen: set[tuple[str, str, object]] = set()
    for answers in sets:
        seen |= outcomes(form, answers)
    exprs: set[tuple[str, str]] = set()
    for f in fields(form):
        q = f.question
        if q.relevant:
            exprs.add((f.path, "relevant"))
        if q.is_input and q.required and q.required != "true()":
            exprs.add((f.path, "required"))
        if q.constraint:
            exprs.add((f.path, "constraint"))
    both = sum(1 for p, k in exprs if (p, k, True) in seen and (p, k, False) in seen)
    return both, len(exprs)


# ----- comparing ------------------------------------------------------------------------


@dataclass
class Difference:
    case: str
    form: str
    path: str
    decision: str
    kiosk: object
    javarosa: object
    answers: Answers = field(repr=False)
    known: str | None = None
    # JavaRosa's nodes for the same case typed as the kiosk stored it (trimmed,
    # normalised): what explains a difference that follows from the kiosk's storing.
    twin: dict[str, dict[str, object]] | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return (
            f"{self.form} {self.case} {self.path} {self.decision}: kiosk={self.kiosk!r} "
            f"javarosa={self.javarosa!r} answers={self.answers}"
        )


def _same_value(a: object, b: object) -> bool:
    if a == b:
        return True
    try:
        x, y = float(str(a)), float(str(b))
    except ValueError:
        return False
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)


def compare(
    case: Case,
    form: Form,
    kiosk: dict[str, dict[str, object]],
    jr: dict[str, object],
    twin: dict[str, object] | None = None,
) -> Iterator[Difference]:
    """Every decision on which the engines differ, for one case (``twin``: JavaRosa's
    result for the case's ``stored_answers``, when they differ from what was typed)."""
    twin_nodes = twin.get("nodes") if twin is not None else None
    for d in _compare(case, form, kiosk, jr):
        d.twin = twin_nodes if isinstance(twin_nodes, dict) else None
        yield d


def _compare(
    case: Case, form: Form, kiosk: dict[str, dict[str, object]], jr: dict[str, object]
) -> Iterator[Difference]:
    if "error" in jr:
        yield Difference(case.id, case.form, "", "load", None, jr["error"], case.answers)
        return
    nodes = jr["nodes"]
    assert isinstance(nodes, dict)
    for path, k in kiosk.items():
        j = nodes.get(path)
        if j is None:
            yield Difference(case.id, case.form, path, "exists", True, False, case.answers)
            continue
        jv = j.get("value")
        jv = None if jv == "" else jv
        q_relevant = bool(j["relevant"])
        diffs: list[tuple[str, object, object]] = [("relevant", k["relevant"], q_relevant)]
        if k["relevant"] and q_relevant:
            if k["required"] is not None:
                diffs.append(("required", k["required"], bool(j["required"])))
            if "constraint" in k or "constraint" in j:
                diffs.append(("constraint", k.get("constraint"), j.get("constraint")))
            if j.get("leaf") and not _same_value(k["value"], jv):
                diffs.append(("value", k["value"], jv))
        if j.get("leaf") and k["value"] is not None or jv is not None:
            j_kept = q_relevant and jv is not None
            if k["kept"] != j_kept and (k["kept"] or k["value"] is not None):
                diffs.append(("kept", k["kept"], j_kept))
        for decision, kv, jrv in diffs:
            if kv != jrv:
                yield Difference(case.id, case.form, path, decision, kv, jrv, case.answers)


# ----- the known, deliberate differences ------------------------------------------------


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _twin_agrees(d: Difference) -> bool:
    """JavaRosa, given the answers as the kiosk stored them, decides as the kiosk."""
    j = d.twin.get(d.path) if d.twin is not None else None
    if not isinstance(j, dict):
        return False
    value = j.get("value") or None
    decided: dict[str, object] = {
        "relevant": bool(j.get("relevant")),
        "required": bool(j.get("required")),
        "constraint": j.get("constraint"),
        "value": value,
        "kept": bool(j.get("relevant")) and value is not None,
    }
    if d.decision == "value":
        return _same_value(d.kiosk, value)
    return decided.get(d.decision, object()) == d.kiosk


def _text_trimmed(d: Difference, form: Form) -> bool:
    """The kiosk trims text answers; whitespace-only text is no answer (docs/javarosa.md).
    A computed text: the kiosk's is JavaRosa's trimmed. Anything else that follows (a
    relevant, a constraint reading the answer): JavaRosa decides the same on the
    trimmed answers."""
    if (
        d.decision == "value"
        and isinstance(d.javarosa, str)
        and d.kiosk == (d.javarosa.strip() or None)
    ):
        return True
    padded = any(v != v.strip() for v in d.answers.values())
    return padded and _twin_agrees(d)


def _kinds(d: Difference, form: Form) -> bool:
    """Uzbek validator appearances normalise what is typed (docs/javarosa.md): JavaRosa
    decides as the kiosk on the normalised answers."""
    kinds = {q.name for q in form.walk() if q.kind and _path_answered(d, q.name)}
    return bool(kinds) and _twin_agrees(d)


def _path_answered(d: Difference, name: str) -> bool:
    return any(_name(p) == name for p in d.answers)


def _non_finite(d: Difference, form: Form) -> bool:
    """The kiosk leaves a calculation that is NaN or Infinity empty (docs/forms.md)."""
    if d.kiosk is None and d.javarosa in _NON_FINITE:
        return True
    return False


_NON_FINITE = ("NaN", "Infinity", "-Infinity")


def _itext_placeholder(d: Difference, form: Form) -> bool:
    """jr:itext() of no text: JavaRosa's placeholder "[itext:id]", the kiosk's empty."""
    return (
        d.kiosk is None
        and isinstance(d.javarosa, str)
        and bool(re.fullmatch(r"\[itext:[^\]]*\]", d.javarosa))
    )


def _kiosk_metadata(d: Difference, form: Form) -> bool:
    """A metadata field's value: the kiosk's clock and device fill it, not JavaRosa's."""
    name = d.path.rsplit("/", 1)[-1]
    question = next((q for q in form.walk() if q.name == name), None)
    return d.decision == "value" and question is not None and question.meta is not None


def _time_written_short(d: Difference, form: Form) -> bool:
    """The same time of day, written HH:MM:SS by the kiosk and with milliseconds and a
    zone by JavaRosa."""
    return (
        d.decision == "value"
        and isinstance(d.kiosk, str)
        and isinstance(d.javarosa, str)
        and bool(re.fullmatch(r"\d{2}:\d{2}:\d{2}", d.kiosk))
        and bool(re.fullmatch(re.escape(d.kiosk) + r"(\.\d+)?(Z|[+-]\d{2}:?\d{2})?", d.javarosa))
    )


RULES: dict[str, Callable[[Difference, Form], bool]] = {
    "time-written-short": _time_written_short,
    "kiosk-metadata": _kiosk_metadata,
    "non-finite-calculation": _non_finite,
    "itext-placeholder": _itext_placeholder,
    "text-trimmed": _text_trimmed,
    "uzbek-kinds": _kinds,
}


def known_differences() -> list[dict[str, str]]:
    data = json.loads(KNOWN.read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def explain(d: Difference, form: Form) -> str | None:
    """The id of the known difference that explains ``d``, or None."""
    for entry in known_differences():
        rule = RULES.get(entry["id"])
        if rule is not None and rule(d, form):
            return entry["id"]
    return None


def _spec_nodes(children: list[dict[str, object]]) -> Iterator[dict[str, object]]:
    for node in children:
        yield node
        inner = node.get("children")
        if isinstance(inner, list):
            yield from _spec_nodes(inner)


def load_pair(path: Path, work: Path) -> tuple[Form, Path, Path]:
    """The kiosk's Form and JavaRosa's XForm (+ media folder) of one XLSForm file."""
    spec = load_spec(path)
    if any(node.get("type") == "loop" for node in _spec_nodes(spec.get("children") or [])):
        # pyxform repeats a loop's group once per choice; the kiosk runs it as one group
        # (issue 17's types part): not comparable node by node.
        raise NotComparable("uses a loop")
    form = Form.from_pyxform(spec)
    xform, media = to_xform(path, work)
    return form, xform, media
