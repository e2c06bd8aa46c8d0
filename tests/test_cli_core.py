"""`kiosk submit`, `kiosk queue`: the real CLI in a subprocess over a real data dir."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kiosk import tracking
from kiosk.catalog import Catalog, bundled_form_files, sample_file
from kiosk.config import db_path
from kiosk.store import Store
from tests import sealkit

FORM = "mahalla_appeal"


@pytest.fixture(scope="module")
def catalog_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the bundled catalog cached once (parsing forms is the slow part)."""
    directory = tmp_path_factory.mktemp("catalog")
    with Store.open(directory) as store:
        Catalog(store).ensure_bundled()
    return db_path(directory)


@pytest.fixture(autouse=True)
def seeded(data_dir: Path, catalog_db: Path) -> None:
    """Each test starts from its own copy of that database."""
    shutil.copyfile(catalog_db, db_path(data_dir))


@pytest.fixture
def sample() -> Path:
    path = sample_file(FORM)
    assert path.is_file()
    return path


def queued(data_dir: Path) -> list[dict]:
    """The outbox rows, each with its answers opened (``answers``): they are sealed."""
    with Store.open(data_dir) as store:
        rows = store.queue(include_payload=True)
        return [{**row, "answers": sealkit.open_row_in(store.db, row)} for row in rows]


def test_submit_queues_and_prints_code_and_payload(run_kiosk, data_dir: Path, sample) -> None:
    result = run_kiosk("submit", "--form", FORM, "--answers", sample, "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert tracking.is_valid(out["tracking_code"])
    (row,) = queued(data_dir)
    assert row["tracking_code"] == out["tracking_code"]
    assert row["form_id"] == FORM and row["state"] == "queued"
    assert row["answers"] == out["payload"]
    answers = json.loads(sample.read_text(encoding="utf-8"))
    assert out["payload"]["full_name"] == answers["full_name"]
    plain = run_kiosk("submit", "--form", FORM, "--answers", sample)
    assert plain.returncode == 0
    code = queued(data_dir)[1]["tracking_code"]
    assert tracking.format_code(code) in plain.stdout
    verify = run_kiosk("audit", "verify")
    assert verify.returncode == 0 and "2 entries" in verify.stdout


def test_dry_run_validates_and_queues_nothing(run_kiosk, data_dir: Path, sample) -> None:
    result = run_kiosk("submit", "--form", FORM, "--answers", sample, "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["tracking_code"] is None and out["payload"]
    assert queued(data_dir) == []


def test_submit_from_form_file(run_kiosk, data_dir: Path, sample) -> None:
    form_file = next(p for p in bundled_form_files() if p.stem == FORM)
    result = run_kiosk("submit", "--form-file", form_file, "--answers", sample, "--json")
    assert result.returncode == 0, result.stderr
    assert len(queued(data_dir)) == 1


def test_invalid_answers_exit_2_with_errors_in_lang(
    run_kiosk, data_dir: Path, sample, tmp_path: Path
) -> None:
    answers = json.loads(sample.read_text(encoding="utf-8"))
    del answers["full_name"]
    answers["no_such_field"] = 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(answers, ensure_ascii=False), encoding="utf-8")
    result = run_kiosk("submit", "--form", FORM, "--answers", bad, "--json")
    assert result.returncode == 2
    errors = json.loads(result.stdout)["errors"]
    fields = {e["field"] for e in errors}
    assert {"full_name", "no_such_field"} <= fields
    assert all(e["message"] for e in errors)
    ru = run_kiosk("submit", "--form", FORM, "--answers", bad, "--json", "--lang", "ru")
    ru_errors = json.loads(ru.stdout)["errors"]
    assert any(any("\u0400" <= ch <= "\u04ff" for ch in e["message"]) for e in ru_errors)
    plain = run_kiosk("submit", "--form", FORM, "--answers", bad)
    assert plain.returncode == 2 and "full_name" in plain.stderr
    assert "Traceback" not in plain.stderr
    assert queued(data_dir) == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "does not exist"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        (b"\xff\xfe\x00garbage", "cannot be read"),
    ],
)
def test_bad_answers_file_exit_2_with_message(
    run_kiosk, data_dir: Path, tmp_path: Path, content: str | bytes | None, expected: str
) -> None:
    path = tmp_path / "answers.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    result = run_kiosk("submit", "--form", FORM, "--answers", path)
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr
    as_json = run_kiosk("submit", "--form", FORM, "--answers", path, "--json")
    assert (
        as_json.returncode == 2 and expected in json.loads(as_json.stdout)["errors"][0]["message"]
    )


@pytest.mark.parametrize(
    "content", ['{"full_name": 1e999999}', '{"full_name": "\\ud800"}', '{"n": NaN}']
)
def test_answers_nothing_can_hash_exit_2_with_message(
    run_kiosk, data_dir: Path, tmp_path: Path, content: str
) -> None:
    """The kiosk never queues a payload the portal could not hash (issue 12 review)."""
    path = tmp_path / "answers.json"
    path.write_text(content, encoding="utf-8")
    result = run_kiosk("submit", "--form", FORM, "--answers", path)
    assert result.returncode == 2, result.stderr
    assert "number out of range" in result.stderr and "Traceback" not in result.stderr
    assert queued(data_dir) == []


def test_unknown_form_and_missing_form_file(run_kiosk, sample, tmp_path: Path) -> None:
    unknown = run_kiosk("submit", "--form", "no_such_form", "--answers", sample)
    assert unknown.returncode == 2 and "no_such_form" in unknown.stderr
    missing = run_kiosk("submit", "--form-file", tmp_path / "x.md", "--answers", sample)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_queue_lists_state_attempts_and_age(run_kiosk, data_dir: Path, sample) -> None:
    empty = run_kiosk("queue")
    assert empty.returncode == 0 and "empty" in empty.stdout
    for _ in range(2):
        assert run_kiosk("submit", "--form", FORM, "--answers", sample).returncode == 0
    rows = queued(data_dir)
    with Store.open(data_dir) as store:
        store.db.execute(
            "UPDATE outbox SET state='rejected', reason='PINFL mismatch', attempts=3 WHERE id=?",
            [rows[0]["id"]],
        )
    plain = run_kiosk("queue")
    assert plain.returncode == 0
    assert "Queued: 1" in plain.stdout and "Rejected: 1" in plain.stdout
    assert tracking.format_code(rows[0]["tracking_code"]) in plain.stdout
    assert "PINFL mismatch" in plain.stdout and "attempts: 3" in plain.stdout
    assert "second" in plain.stdout  # human-readable age
    js = json.loads(run_kiosk("queue", "--json", "--state", "rejected").stdout)
    assert js["counts"] == {"queued": 1, "sent": 0, "rejected": 1}
    (item,) = js["items"]
    assert item["tracking_code"] == rows[0]["tracking_code"] and item["attempts"] == 3
    assert item["age_seconds"] >= 0 and "payload" not in item
    bad_state = run_kiosk("queue", "--state", "lost")
    assert bad_state.returncode == 2


def test_store_errors_are_messages_not_tracebacks(run_kiosk, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "kiosk.db").write_bytes(b"this is not a database file" * 200)
    env = {"KIOSK_DATA_DIR": str(broken)}
    result = run_kiosk("queue", env=env)
    assert result.returncode == 1
    assert "damaged" in result.stderr and "Traceback" not in result.stderr
    submitted = run_kiosk(
        "submit", "--form", FORM, "--answers", sample_file(FORM), "--json", env=env
    )
    assert submitted.returncode == 1 and "Traceback" not in submitted.stderr
    assert "damaged" in json.loads(submitted.stdout)["errors"][0]["message"]
    verify = run_kiosk("audit", "verify", env=env)
    assert verify.returncode == 1 and "damaged" in verify.stderr


def test_queue_command_states_match_the_store() -> None:
    from kiosk.commands import queue
    from kiosk.outbox import STATES

    assert queue.STATES == STATES


def test_unusable_data_folder_is_a_message(run_kiosk, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = run_kiosk("queue", env={"KIOSK_DATA_DIR": str(blocker / "data")})
    assert result.returncode == 1
    assert "data folder" in result.stderr and "Traceback" not in result.stderr


def test_store_submit_takes_a_form_object(data_dir: Path, sample: Path) -> None:
    with Store.open(data_dir) as store:
        form = Catalog(store).get(FORM)
        answers = json.loads(sample.read_text(encoding="utf-8"))
        sub = store.submit(form, answers, "uz_Latn", consent=True)
        (row,) = store.queue()
    assert (row["form_id"], row["form_version"]) == (form.id, str(form.version))
    assert row["tracking_code"] == sub.tracking_code and row["consent"] == 1
