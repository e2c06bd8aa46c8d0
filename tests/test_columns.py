"""Command-line columns line up by terminal cells (kiosk/columns.py), and `kiosk queue`'s
do in every language, whatever the form ids' lengths (issue 14, finding 9)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk.catalog import Catalog, sample_file
from kiosk.columns import aligned, cell_width, pad
from kiosk.config import db_path
from kiosk.i18n import tr
from kiosk.store import Store

# A long form id and a short one: padding to a fixed width misaligned the long one.
FORMS = ("criminal_record_certificate", "mahalla_appeal", "utility_complaint")


def test_cell_width_counts_what_a_terminal_shows() -> None:
    assert cell_width("rad etilgan") == 11
    assert cell_width("biykarlan\u0261\u0301an") == 12  # a combining acute takes no cell
    assert cell_width("и\u0306") == 1  # "й" decomposed
    assert cell_width("表格") == 4  # wide characters take two
    assert cell_width("ab\u200bc") == 3  # a zero-width space takes none
    assert pad("и\u0306", 3) == "и\u0306  "
    assert pad("toolong", 3) == "toolong"


def test_aligned_pads_every_column_but_the_last_by_cells() -> None:
    rows = [["a\u0301", "表", "x"], ["abc", "b", "longer last"], ["d", "", ""]]
    lines = aligned(rows)
    # "á" takes one cell, so it gets two more spaces than len() would give; "表" two.
    assert lines == ["a\u0301    表  x", "abc  b   longer last", "d"]
    assert aligned([]) == []


@pytest.fixture(scope="module")
def catalog_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("catalog")
    with Store.open(directory) as store:
        Catalog(store).ensure_bundled()
    return db_path(directory)


def starts_of(line: str, cells: list[str]) -> list[int]:
    """The terminal column at which each of ``cells`` begins in ``line``."""
    found, at = [], 0
    for cell in cells:
        at = line.index(cell, at)
        found.append(cell_width(line[:at]))
        at += len(cell)
    return found


@pytest.mark.parametrize("lang", ["uz_Latn", "uz_Cyrl", "ru", "kaa"])
def test_queue_columns_line_up(run_kiosk, data_dir: Path, catalog_db: Path, lang: str) -> None:
    shutil.copyfile(catalog_db, db_path(data_dir))
    for form in FORMS:
        done = run_kiosk("submit", "--form", form, "--answers", sample_file(form))
        assert done.returncode == 0, done.stderr
    with Store.open(data_dir) as store:
        first = store.queue()[0]
        store.db.execute(
            "UPDATE outbox SET state='rejected', reason='x', attempts=12 WHERE id=?",
            [first["id"]],
        )
    out = run_kiosk("queue", "--lang", lang)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()[1:]
    assert len(lines) == len(FORMS), out.stdout
    with Store.open(data_dir) as store:
        rows = store.queue()
    starts = set()
    for line, row in zip(lines, rows, strict=True):
        state = tr(lang, row["state"])
        attempts = tr(lang, "attempts: {n}", n=row["attempts"])
        starts.add(tuple(starts_of(line, [row["form_id"], state, attempts])))
    assert len(starts) == 1, out.stdout
