"""The public XLSForm corpus (tests/corpus/SOURCES.tsv): which forms load, and why not.

`python -m tests.corpus_kit [--lang ru]` prints one line per form that does not load and
the load rate. A form "loads" when `kiosk catalog check` finds no problem in it (warnings
allowed) and the catalog builds its runnable Form. Two kinds of form do not count:
those pyxform itself refuses (broken on purpose in its tests: ODK could not run them
either) and those that use a type a kiosk cannot serve (a photo, a GPS point); each of
those must still be refused with a clear reason, which the report shows.
"""

from __future__ import annotations

import csv
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
SOURCES = CORPUS / "SOURCES.tsv"


@dataclass(frozen=True)
class Entry:
    file: str
    repository: str
    path: str
    commit: str
    licence: str
    sha256: str


@dataclass(frozen=True)
class Outcome:
    entry: Entry
    status: str  # "loads", "refused" (not at a kiosk), "invalid" (pyxform), "fails"
    reason: str = ""


def entries() -> list[Entry]:
    with SOURCES.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [
        Entry(r["file"], r["repository"], r["path"], r["commit"], r["licence"], r["sha256"])
        for r in rows
    ]


def folder() -> Path:
    return Path(os.environ.get("KIOSK_FORM_CORPUS") or CORPUS / "files")


def local_file(entry: Entry) -> Path | None:
    """The file of `entry` on this machine, when present with the listed bytes."""
    path = folder() / entry.file
    if not path.is_file():
        return None
    if hashlib.sha256(path.read_bytes()).hexdigest() != entry.sha256:
        return None
    return path


def measure_one(entry: Entry, path: Path, lang: str = "en") -> Outcome:
    from kiosk.catalog import CatalogError, load_form_file
    from kiosk.xlsform_check import check_file

    issues = check_file(path, lang=lang)
    errors = [i for i in issues if not i.warning]
    if errors and not any(i.kind for i in errors):
        # Before counting a failure: would ODK itself (ODK Validate, JavaRosa) take it?
        issues = check_file(path, odk_validate=True, lang=lang)
        errors = [i for i in issues if not i.warning]
    if errors:
        kinds = {i.kind for i in errors}
        status = "refused" if "kiosk" in kinds else "invalid" if "pyxform" in kinds else "fails"
        first = next(i for i in errors if status == "fails" or i.kind == _KIND[status])
        return Outcome(entry, status, first.text(lang))
    try:
        load_form_file(path)
    except CatalogError as exc:
        return Outcome(entry, "fails", exc.message(lang))
    return Outcome(entry, "loads")


_KIND = {"refused": "kiosk", "invalid": "pyxform"}


def measure(lang: str = "en") -> tuple[list[Outcome], list[Entry]]:
    """The outcome of every listed form present here, and the entries missing here."""
    outcomes, missing = [], []
    for entry in entries():
        path = local_file(entry)
        if path is None:
            missing.append(entry)
            continue
        outcomes.append(measure_one(entry, path, lang))
    return outcomes, missing


def rate(outcomes: list[Outcome]) -> tuple[int, int]:
    """(forms that load, forms that count): pyxform-invalid and not-at-a-kiosk are out."""
    counted = [o for o in outcomes if o.status in ("loads", "fails")]
    return sum(o.status == "loads" for o in counted), len(counted)


def main(argv: list[str]) -> int:
    lang = argv[argv.index("--lang") + 1] if "--lang" in argv else "en"
    outcomes, missing = measure(lang)
    for o in outcomes:
        if o.status != "loads":
            print(f"{o.status:8} {o.entry.file}: {o.reason}")
    loads, counted = rate(outcomes)
    by = {s: sum(o.status == s for o in outcomes) for s in ("loads", "fails", "refused", "invalid")}
    print(f"listed {len(outcomes) + len(missing)}, here {len(outcomes)}, missing {len(missing)}")
    print(f"statuses {by}")
    share = 100.0 * loads / counted if counted else 0.0
    print(f"load rate {loads}/{counted} = {share:.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
