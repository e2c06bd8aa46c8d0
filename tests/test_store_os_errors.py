"""Storage failures from the operating system are said, never quoted (issue 14): a
StoreError names what the errno means in the reader's language (kiosk.errors.os_error),
not the OS's English strerror ("Not a directory", "Is a directory"), for a citizen on
screen and for `kiosk` commands under uz_Latn, uz_Cyrl and ru."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk import private_files
from kiosk.i18n import tr
from kiosk.store import Store, StoreError, failure_message

LANGS = ["uz_Latn", "uz_Cyrl", "ru"]
ENGLISH = ("Not a directory", "Is a directory", "No such file", "Errno", "Permission denied")


def _clean(text: str) -> None:
    assert text.strip()
    for words in ENGLISH:
        assert words not in text, text


@pytest.fixture
def blocked(tmp_path: Path) -> Path:
    """A data folder that cannot be made: a part of its path is a file."""
    (tmp_path / "file").write_text("x")
    return tmp_path / "file" / "data"


@pytest.mark.parametrize("lang", LANGS)
def test_a_data_folder_that_cannot_be_made(blocked: Path, lang: str) -> None:
    with pytest.raises(StoreError) as caught:
        Store.open(blocked)
    said = caught.value.message(lang)
    _clean(said)
    assert tr(lang, "a part of the path is not a directory") in said
    # The same through failure_message, as commands print it, for a bare OSError too.
    _clean(failure_message(caught.value, lang))
    try:
        os.mkdir(blocked)
    except OSError as exc:
        _clean(failure_message(exc, lang))
        assert tr(lang, "a part of the path is not a directory") in failure_message(exc, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_a_token_that_cannot_be_read_or_saved(tmp_path: Path, lang: str) -> None:
    unreadable = tmp_path / "portal.token"
    unreadable.mkdir()  # a directory where the token file should be
    with pytest.raises(StoreError) as caught:
        private_files.read_token(unreadable)
    _clean(caught.value.message(lang))
    assert tr(lang, "it is a directory, not a file") in caught.value.message(lang)
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError) as caught:
        private_files.write_token(tmp_path / "file" / "portal.token", "t0k3n")
    _clean(caught.value.message(lang))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("command", [("queue",), ("drafts", "list"), ("operator", "list")])
def test_commands_say_it_in_the_language(run_kiosk, blocked: Path, lang: str, command) -> None:
    result = run_kiosk(*command, env={"KIOSK_DATA_DIR": str(blocked), "KIOSK_LANG": lang})
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    _clean(output)
    assert "Traceback" not in output


@pytest.mark.parametrize("lang", LANGS)
def test_an_unexpected_sqlite_error_is_named_by_its_code(tmp_path: Path, lang: str) -> None:
    import sqlite3

    from kiosk.store_errors import store_error

    exc = sqlite3.OperationalError("no such table: outbox")
    exc.sqlite_errorname = "SQLITE_ERROR"  # as sqlite3 sets it
    said = store_error(exc, tmp_path / "kiosk.db").message(lang)
    assert "no such table" not in said and "SQLITE_ERROR" in said, said
