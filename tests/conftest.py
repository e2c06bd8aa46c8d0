"""Shared fixtures: a throwaway data directory and the real `kiosk` CLI as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from kiosk import i18n, languages
from kiosk.languages import Language


def pytest_configure(config: pytest.Config) -> None:
    """Kiosks in tests seal to the test key until they enrol (tests/sealkit.py)."""
    from tests import sealkit

    sealkit.install_env()


# The venv's interpreter runs the CLI, so tests exercise the installed entry point.
KIOSK_ARGV: tuple[str, ...] = (sys.executable, "-m", "mahalla")
REPO_ROOT = Path(__file__).resolve().parent.parent

RunKiosk = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty kiosk data directory (KIOSK_DATA_DIR) for one test."""
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def run_kiosk(data_dir: Path) -> RunKiosk:
    """Run `kiosk *args` in a subprocess with KIOSK_DATA_DIR=data_dir.

    `input` is fed to stdin; `env` entries override the environment (a value of None
    removes a variable). KIOSK_LANG defaults to "en". Returns the CompletedProcess with text stdout/stderr.
    """

    def run(
        *args: str | os.PathLike[str],
        input: str | None = None,
        env: Mapping[str, str | None] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ)
        full_env["KIOSK_DATA_DIR"] = str(data_dir)
        # English messages by default so assertions read plainly; pass env to change.
        full_env["KIOSK_LANG"] = "en"
        full_env["PYTHONIOENCODING"] = "utf-8"
        for key, value in (env or {}).items():
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = value
        return subprocess.run(
            [*KIOSK_ARGV, *map(str, args)],
            input=input,
            capture_output=True,
            text=True,
            env=full_env,
            cwd=REPO_ROOT,
            timeout=timeout,
        )

    return run


# A language with no voice of its own, read by the Uzbek voice, as a new row would be.
NEW_LANGUAGE = Language("xx", "Xxish", "Latn", "uz_Latn", ("xx",), speech="uz_Latn")


@pytest.fixture
def new_language(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The registry with one more language row, for this test only."""
    monkeypatch.setattr(languages, "LANGUAGES", (*languages.LANGUAGES, NEW_LANGUAGE))
    yield NEW_LANGUAGE.code
    i18n.reload()


@pytest.fixture(autouse=True)
def cheap_pin_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """PIN hashes at a low scrypt cost in this process (OWASP's costs 0.3 s and 128 MiB a
    hash); tests/test_operators.py checks the production cost. Subprocesses (the CLI)
    hash at the production cost."""
    from kiosk import operators

    monkeypatch.setattr(operators, "HASH_COST", operators.ScryptCost(2**10, 8, 1))


@pytest.fixture(autouse=True)
def cheap_draft_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Draft keys at a low scrypt cost in this process (the cost is stored with each
    draft, so it opens the same way); tests/test_drafts.py checks the production cost."""
    from kiosk import drafts

    monkeypatch.setattr(drafts, "KDF_COST", drafts.KdfCost(2**10, 8, 1))


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database's URL (tests/pgkit.py): skipped without a cluster,
    failed under CI=true."""
    from tests.pgkit import fresh_database

    with fresh_database() as dsn:
        yield dsn
