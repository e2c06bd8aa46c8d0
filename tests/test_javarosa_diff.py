"""The differential test: the kiosk engine against JavaRosa, decision by decision.

Every form of the bundled catalogue, tests/forms and the public corpus (tests/corpus,
when the kiosk loads it) gets answer sets generated to make each relevant, required and
constraint expression both true and false (tests/javarosa/harness.py). All of them run
through ONE JVM (a session fixture) and through the kiosk; any difference that no entry
of tests/javarosa/known_differences.json explains fails. Without java the test skips,
except under CI=true, where it fails.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.form import Form
from tests.javarosa import harness as h

ROOT = Path(__file__).resolve().parent.parent
OWN_FORMS = sorted((ROOT / "kiosk" / "forms_bundled").glob("*.md")) + sorted(
    (ROOT / "tests" / "forms").glob("*.md")
)
CORPUS = ROOT / "tests" / "corpus"
SETS_OWN = 15  # answer sets per bundled or test form
SETS_CORPUS = 4  # per public form (there are many)
MIN_SETS = 200


def _corpus_forms() -> list[Path]:
    """The public forms listed in tests/corpus/SOURCES.tsv that are on this machine (in
    tests/corpus/files or $KIOSK_FORM_CORPUS) with the listed SHA-256."""
    listing = CORPUS / "SOURCES.tsv"
    if not listing.is_file():
        return []
    folder = Path(os.environ.get("KIOSK_FORM_CORPUS") or CORPUS / "files")
    found = []
    with listing.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            path = folder / row["file"]
            if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == row["sha256"]:
                found.append(path)
    return found


def _key(path: Path) -> str:
    if path in OWN_FORMS:
        return str(path.relative_to(ROOT))
    return f"corpus:{path.parent.name}/{path.name}"


@dataclass
class Run:
    cases: list[h.Case]
    forms: dict[str, Form]
    results: dict[str, dict[str, object]]
    skipped: dict[str, str]  # form -> why it was not compared

    def differences(self) -> Iterator[h.Difference]:
        for case in self.cases:
            form = self.forms[case.form]
            kiosk = h.kiosk_decisions(form, case.answers)
            twin = self.results.get(f"{case.id}~stored")
            for d in h.compare(case, form, kiosk, self.results[case.id], twin):
                d.known = h.explain(d, form)
                yield d


def _java_or_fail() -> None:
    if shutil.which("java") and shutil.which("javac"):
        return
    if os.environ.get("CI") == "true":
        pytest.fail("java and javac are needed for the JavaRosa differential test (CI=true)")
    pytest.skip("java/javac not installed (scripts/setup installs them)")


@pytest.fixture(scope="session")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Every (form, answer set) pair through one JVM, once per test session."""
    _java_or_fail()
    work = tmp_path_factory.mktemp("javarosa")
    classes = h.compiled_driver(work / "classes")
    cases: list[h.Case] = []
    forms: dict[str, Form] = {}
    skipped: dict[str, str] = {}
    for path in [*OWN_FORMS, *_corpus_forms()]:
        key = _key(path)
        folder = work / f"f{len(forms) + len(skipped)}"
        folder.mkdir()
        try:
            form, xform, media = h.load_pair(path, folder)
        except Exception as exc:  # noqa: BLE001 - a form either engine cannot load
            skipped[key] = f"{type(exc).__name__}: {str(exc)[:200]}"
            continue
        forms[key] = form
        n = SETS_OWN if path in OWN_FORMS else SETS_CORPUS
        try:
            sets = h.answer_sets(form, n, seed=key)
        except Exception as exc:  # noqa: BLE001 - the kiosk failing on a form is reported
            skipped[key] = f"answer sets: {type(exc).__name__}: {exc}"
            continue
        for i, answers in enumerate(sets):
            cases.append(h.Case(f"{key}#{i}", key, xform, media, answers))
    # Each case whose text the kiosk stores otherwise than typed (trimmed, normalised)
    # runs twice in JavaRosa: as typed, and as stored (the known differences use it).
    twins = []
    for c in cases:
        stored = h.stored_answers(forms[c.form], c.answers)
        if stored != c.answers:
            twins.append(h.Case(f"{c.id}~stored", c.form, c.xform, c.media, stored))
    results = h.run_javarosa(cases + twins, classes)
    # A public form JavaRosa itself cannot run (a broken fixture, Collect's pulldata())
    # has nothing to compare: noted, left out. Our own forms must all run.
    broken = {c.form for c in cases if "error" in results[c.id] and c.form.startswith("corpus:")}
    for key in broken:
        skipped[key] = f"JavaRosa: {results[next(c.id for c in cases if c.form == key)]['error']}"
    cases = [c for c in cases if c.form not in broken]
    return Run(cases, forms, results, skipped)


def test_every_decision_matches_javarosa_or_is_a_known_difference(run: Run) -> None:
    assert len(run.cases) >= MIN_SETS, f"only {len(run.cases)} answer sets"
    own = [_key(p) for p in OWN_FORMS]
    assert not [k for k in own if k in run.skipped], run.skipped  # our own forms all run
    missing = [c.id for c in run.cases if c.id not in run.results]
    assert not missing, f"JavaRosa gave no result for {missing[:5]}"
    diffs = list(run.differences())
    unexplained = [d for d in diffs if d.known is None]
    twins = sum(1 for k in run.results if k.endswith("~stored"))
    print(
        f"\nJavaRosa differential: {len(run.cases)} answer sets (+{twins} as stored) over "
        f"{len({c.form for c in run.cases})} forms; {len(diffs) - len(unexplained)} known "
        f"differences, {len(unexplained)} unexplained; not compared: {len(run.skipped)}"
    )
    report = "\n".join(str(d)[:400] for d in unexplained[:30])
    assert not unexplained, f"{len(unexplained)} unexplained differences:\n{report}"


def test_javarosa_loaded_every_form_compared(run: Run) -> None:
    errors = {c.form: r["error"] for c in run.cases if "error" in (r := run.results[c.id])}
    assert not errors, errors


def test_answer_sets_make_expressions_true_and_false(run: Run) -> None:
    """Across the bundled forms, most relevant/required/constraint expressions come out
    both ways (some cannot: a constraint only a valid PINFL passes)."""
    both = total = 0
    for key, form in run.forms.items():
        if not key.startswith("kiosk/"):
            continue
        b, t = h.coverage(form, [c.answers for c in run.cases if c.form == key])
        both, total = both + b, total + t
    assert total > 50
    assert both >= 0.9 * total, f"{both} of {total} expressions made both true and false"


def test_known_differences_each_have_a_rule_and_a_doc() -> None:
    entries = h.known_differences()
    ids = [e["id"] for e in entries]
    assert sorted(ids) == sorted(h.RULES), "known_differences.json and harness.RULES differ"
    doc = (ROOT / "docs" / "javarosa.md").read_text(encoding="utf-8")
    for e in entries:
        assert e["why"].strip()
        assert f"`{e['id']}`" in doc, f"{e['id']} is not in docs/javarosa.md"


def test_a_difference_is_caught(run: Run) -> None:
    """The comparison can fail: flip one decision JavaRosa took and it is reported."""
    case = next(c for c in run.cases if c.form.endswith("logic.md"))
    result = json.loads(json.dumps(run.results[case.id]))
    nodes = result["nodes"]
    node = nodes["/data/has_children"]
    node["relevant"] = not node["relevant"]
    form = run.forms[case.form]
    found = list(h.compare(case, form, h.kiosk_decisions(form, case.answers), result))
    caught = {(d.path, d.decision) for d in found if h.explain(d, form) is None}
    assert ("/data/has_children", "relevant") in caught


def test_without_java_the_test_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        _java_or_fail()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        _java_or_fail()


def test_regex_search_would_differ_from_javarosa(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """The evidence for regex() as a full match: with a search instead, the same answer
    sets give constraint decisions JavaRosa does not take."""
    from kiosk.expr import regex

    def search(pattern: str, text: str, spend: object = None) -> bool:
        return regex._compiled(pattern).search(text) is not None  # noqa: SLF001

    monkeypatch.setattr(regex, "matches", search)
    cases = [c for c in run.cases if c.form.endswith("odk_functions.md")]
    found = {
        (d.path, d.decision)
        for c in cases
        for d in h.compare(
            c, run.forms[c.form], h.kiosk_decisions(run.forms[c.form], c.answers), run.results[c.id]
        )
        if h.explain(d, run.forms[c.form]) is None
    }
    assert ("/data/code", "constraint") in found or ("/data/zip", "constraint") in found
