"""kiosk.catalog: the forms cache over a real SQLite store, and broken files refused."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from kiosk import catalog
from kiosk.catalog import (
    Catalog,
    CatalogError,
    UnknownForm,
    bundled_form_files,
    category_name,
    load_form_file,
    load_sample,
    version_key,
)
from kiosk.store import Store

FORM_MD = """\
| survey |
| | type | name | label::Uzbek (uz) | label::Russian (ru) | required | constraint |
| | text | full_name | Ism | Имя | yes | |
| | integer | age | Yosh | Возраст | yes | . >= 18 |
| settings |
| | form_id | version | form_title::Uzbek (uz) | form_title::Russian (ru) | category |
| | {form_id} | {version} | Sinov | Тест | {category} |
"""


def _spec(form_id: str = "test_form", version: str = "1", category: str = "social") -> dict:
    """pyxform JSON as the portal would send it (built by the real pyxform)."""
    from kiosk.xlsform_load import load_spec

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{form_id}.md"
        path.write_text(
            FORM_MD.format(form_id=form_id, version=version, category=category), encoding="utf-8"
        )
        return load_spec(path)


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "data") as s:
        yield s


@pytest.fixture
def bundled_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the bundled folder, so a test may edit or break files in it."""
    folder = tmp_path / "bundled"
    folder.mkdir()
    for name in ("old_age_pension.md", "child_allowance.md", "regions.csv", "districts.csv"):
        shutil.copy(catalog.BUNDLED_DIR / name, folder / name)
    monkeypatch.setattr(catalog, "BUNDLED_DIR", folder)
    return folder


def _fetched(store: Store) -> dict[tuple[str, str], str]:
    rows = store.db.execute("SELECT form_id, version, fetched_at FROM forms").fetchall()
    return {(r[0], r[1]): r[2] for r in rows}


# ----- bundled forms in the cache ---------------------------------------------------------


def test_ensure_bundled_caches_every_bundled_form(store: Store) -> None:
    cat = Catalog(store)
    assert cat.ensure_bundled() == []
    ids = {f.id for f in cat.list()}
    assert ids == {p.stem for p in bundled_form_files()}
    assert len(ids) >= 8
    rows = store.db.execute("SELECT DISTINCT source FROM forms").fetchall()
    assert rows == [("bundled",)]


def test_ensure_bundled_is_idempotent_and_skips_unchanged_files(store: Store) -> None:
    Catalog(store).ensure_bundled()
    before = _fetched(store)
    hashes = store.get_setting(catalog.HASHES_KEY)
    # A new Catalog (as at the next start) finds the hashes and parses nothing.
    assert Catalog(store).ensure_bundled() == []
    assert _fetched(store) == before
    assert store.get_setting(catalog.HASHES_KEY) == hashes
    assert store.db.execute("SELECT COUNT(*) FROM forms").fetchone()[0] == len(before)


def test_changed_bundled_file_is_parsed_again(store: Store, bundled_copy: Path) -> None:
    Catalog(store).ensure_bundled()
    path = bundled_copy / "old_age_pension.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("| 2026112701 |", "| 2026112801 |"),
        encoding="utf-8",
    )
    cat = Catalog(store)
    assert cat.ensure_bundled() == []
    assert cat.get("old_age_pension").version == "2026112801"
    # The older version stays for drafts and outbox rows that name it.
    assert cat.versions("old_age_pension") == ["2026112701", "2026112801"]
    assert cat.get("old_age_pension", "2026112701").version == "2026112701"


def test_deleted_cache_rows_are_restored(store: Store, bundled_copy: Path) -> None:
    Catalog(store).ensure_bundled()
    store.db.execute("DELETE FROM forms WHERE form_id = 'child_allowance'")
    store.db.conn.commit()
    cat = Catalog(store)
    cat.ensure_bundled()
    assert cat.get("child_allowance").id == "child_allowance"


def test_broken_bundled_file_is_reported_and_old_cache_kept(
    store: Store, bundled_copy: Path
) -> None:
    Catalog(store).ensure_bundled()
    (bundled_copy / "old_age_pension.md").write_bytes(b"\x00\xff garbage, not a table")
    cat = Catalog(store)
    problems = cat.ensure_bundled()
    assert len(problems) == 1
    assert "old_age_pension.md" in str(problems[0])
    # The kiosk keeps offering what it had: nothing cached is lost.
    assert cat.get("old_age_pension").version == "2026112701"
    assert {f.id for f in cat.list()} == {"old_age_pension", "child_allowance"}


# ----- portal forms and versions ------------------------------------------------------------


def test_put_newer_version_becomes_active_older_stays(store: Store) -> None:
    cat = Catalog(store)
    cat.put(_spec(version="2026010101"))
    cat.put(_spec(version="2026020101"))
    cat.put(_spec(version="2025120101"))  # an older one arriving late stays inactive
    assert cat.get("test_form").version == "2026020101"
    assert cat.versions("test_form") == ["2025120101", "2026010101", "2026020101"]
    assert cat.get("test_form", "2026010101").version == "2026010101"
    active = store.db.execute(
        "SELECT version FROM forms WHERE form_id = 'test_form' AND active = 1"
    ).fetchall()
    assert active == [("2026020101",)]
    assert [f.id for f in cat.list()] == ["test_form"]


def test_put_same_version_again_is_harmless(store: Store) -> None:
    cat = Catalog(store)
    cat.put(_spec(version="3"))
    cat.put(_spec(version="3"))
    assert store.db.execute("SELECT COUNT(*) FROM forms").fetchone()[0] == 1
    assert cat.get("test_form").title("ru") == "Тест"


def test_list_is_sorted_by_category_then_id(store: Store) -> None:
    cat = Catalog(store)
    cat.put(_spec("zeta", "1", "appeals"))
    cat.put(_spec("beta", "1", "social"))
    cat.put(_spec("alpha", "1", "social"))
    assert [(f.category, f.id) for f in cat.list()] == [
        ("appeals", "zeta"),
        ("social", "alpha"),
        ("social", "beta"),
    ]
    assert cat.categories() == ["appeals", "social"]


def test_put_refuses_spec_the_engine_cannot_run(store: Store) -> None:
    cat = Catalog(store)
    spec = _spec()
    spec["children"][1]["bind"]["constraint"] = ". >= ${no_such_field}"
    with pytest.raises(CatalogError, match="no_such_field"):
        cat.put(spec)
    with pytest.raises(CatalogError):
        cat.put({"type": "not a survey"})
    assert store.db.execute("SELECT COUNT(*) FROM forms").fetchone()[0] == 0


def test_unknown_form_and_version(store: Store) -> None:
    cat = Catalog(store)
    cat.put(_spec(version="1"))
    with pytest.raises(UnknownForm) as info:
        cat.get("nope")
    assert info.value.form_id == "nope"
    assert "nope" in info.value.message("ru")
    with pytest.raises(UnknownForm):
        cat.get("test_form", "99")
    assert isinstance(info.value, LookupError)


def test_damaged_stored_spec_is_left_out_not_fatal(store: Store) -> None:
    cat = Catalog(store)
    cat.put(_spec("good", "1"))
    cat.put(_spec("bad", "1"))
    store.db.execute("UPDATE forms SET spec = '{broken' WHERE form_id = 'bad'")
    store.db.conn.commit()
    fresh = Catalog(store)
    assert [f.id for f in fresh.list()] == ["good"]
    assert fresh.problems
    with pytest.raises(CatalogError, match="damaged"):
        fresh.get("bad")


# ----- files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x00\x01\x02\xff\xfe binary junk", "damaged"),
        (b"just some words, no table at all\n", "no_table.md"),
        (
            FORM_MD.format(form_id="x", version="1", category="social")
            .replace(". >= 18", ". >= ${missing}")
            .encode(),
            "missing",
        ),
        (
            FORM_MD.format(form_id="x", version="1", category="social")
            .replace(". >= 18", ". >= (18")
            .encode(),
            "constraint",
        ),
        (
            FORM_MD.format(form_id="x", version="1", category="social")
            .replace("| integer |", "| integr |")
            .encode(),
            "integr",
        ),
    ],
    ids=["binary", "no-table", "unknown-field", "bad-expression", "bad-type"],
)
def test_load_form_file_refuses_broken_files_clearly(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "no_table.md"
    path.write_bytes(content)
    with pytest.raises(CatalogError) as info:
        load_form_file(path)
    message = str(info.value)
    assert expected in message
    assert "Traceback" not in message
    assert info.value.message("ru")  # a message exists in every language


def test_load_form_file_missing(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="does not exist"):
        load_form_file(tmp_path / "absent.md")


def test_load_sample_and_unknown_sample() -> None:
    sample = load_sample("old_age_pension")
    assert sample["sex"] == "male"
    with pytest.raises(CatalogError):
        load_sample("no_such_form")
    with pytest.raises(CatalogError):
        load_sample("../pyproject")


def test_every_bundled_form_has_a_sample() -> None:
    for path in bundled_form_files():
        data = json.loads(path.with_name(f"{path.stem}.sample.json").read_text("utf-8"))
        assert isinstance(data, dict) and data


def test_version_key_orders_naturally() -> None:
    versions = ["1.10", "1.9", "2026112701", "2026112702", "1.2"]
    assert sorted(versions, key=version_key) == [
        "1.2",
        "1.9",
        "1.10",
        "2026112701",
        "2026112702",
    ]


def test_category_names() -> None:
    assert category_name("social", "en") == "Social support"
    assert category_name("something_new", "ru") == "something_new"


def test_label_naming_an_unknown_field_is_refused(store: Store) -> None:
    spec = _spec()
    spec["children"][0]["label"]["Russian (ru)"] = "Имя ${nmae}"  # a typo made by hand
    with pytest.raises(CatalogError, match="nmae"):
        Catalog(store).put(spec)


def test_a_question_name_that_is_no_field_name_is_refused() -> None:
    """A name is part of every step ref ("rep[0]/name"): a damaged one (found by the
    property test: a name replaced by {'/': None}) is a CatalogError, never a KeyError
    at the review."""
    from kiosk.catalog import CatalogError, form_from_spec

    for bad in ({"/": None}, "a/b", "a b", "1a", ""):
        spec = {
            "type": "survey",
            "name": "data",
            "id_string": "f",
            "version": "1",
            "children": [{"type": "text", "name": bad, "label": {"uz": "A"}}],
        }
        with pytest.raises(CatalogError):
            form_from_spec(spec, origin="portal")
