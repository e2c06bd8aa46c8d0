"""Issue 14, finding 4: no English from the wire (or from an exception) reaches field
staff. A rogue portal process answers every call with refusals carrying an English
sentinel and unknown reason codes; the kiosk's commands, in uz_Latn, uz_Cyrl and ru,
must say each refusal in their language and never print the sentinel. A portal that
cannot be reached must not print an exception's class name either."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.portal.process import create_enrolment_code
from tests.integration import rogue_portal
from tests.integration.synckit import Kiosk, moved, queue_submissions

LANGS = ["uz_Latn", "uz_Cyrl", "ru"]
# What must never be printed: the wire's English, an exception's name, English units.
FORBIDDEN = [
    "sentinel",
    "english detail",
    "ConnectError",
    "ConnectTimeout",
    "TransportError",
    "Traceback",
    " bytes",
]


@pytest.fixture(params=["whole", "items"])
def rogue(request: pytest.FixtureRequest) -> Iterator[str]:
    proc, url = rogue_portal.start(request.param)
    try:
        yield url
    finally:
        rogue_portal.stop(proc)


def assert_clean(result: subprocess.CompletedProcess[str], what: str) -> str:
    output = result.stdout + result.stderr
    for word in FORBIDDEN:
        assert word.lower() not in output.lower(), (what, word, output)
    return output


@pytest.mark.parametrize("lang", LANGS)
def test_rogue_refusals_never_reach_the_commands_output(
    kiosk: Kiosk, rogue: str, tmp_path: Path, lang: str
) -> None:
    with kiosk.store() as store:
        queue_submissions(store, 5)
    bundle = tmp_path / "queued.bundle"
    exported = kiosk.run("export-bundle", str(bundle), "--lang", lang)
    assert exported.returncode == 0, exported.stderr
    moved(kiosk.data_dir, rogue)

    imported = kiosk.run("import-bundle", str(bundle), "--lang", lang)
    assert_clean(imported, "import-bundle")
    synced = kiosk.run("sync", "--max-wait", "0", "--lang", lang)
    out = assert_clean(synced, "sync")
    assert out.strip(), "sync said nothing"
    as_json = kiosk.run("sync", "--max-wait", "0", "--json", "--lang", lang)
    assert_clean(as_json, "sync --json")
    queue = kiosk.run("queue", "--lang", lang)
    assert_clean(queue, "queue")
    code = create_enrolment_code(kiosk.portal.data_dir)
    enrolled = kiosk.run("enroll", "--portal", rogue, "--code", code, "--lang", lang)
    assert enrolled.returncode != 0
    assert_clean(enrolled, "enroll")


@pytest.mark.parametrize("lang", LANGS)
def test_kiosk_status_never_prints_the_rogue_portals_words(
    kiosk: Kiosk, rogue: str, lang: str
) -> None:
    """`kiosk status CODE`: live (the look-up refused in English, or answered with a
    status that is an English sentence) and from the local copy (an item the rogue
    portal rejected with unknown codes and the sentinel as its reason)."""
    from kiosk import tracking

    with kiosk.store() as store:
        codes = queue_submissions(store, 5)
    moved(kiosk.data_dir, rogue)
    synced = kiosk.run("sync", "--max-wait", "0", "--lang", lang)
    assert_clean(synced, "sync")
    unknown = tracking.sequential_code("Z9Z", 7)
    for code in [*codes, unknown]:
        for extra in ((), ("--offline",)):
            result = kiosk.run("status", code, *extra, "--lang", lang)
            out = assert_clean(result, f"status {code} {extra}")
            assert out.strip(), ("status said nothing", code, extra)


@pytest.mark.parametrize("lang", LANGS)
def test_unreachable_portal_is_said_not_named(kiosk: Kiosk, lang: str) -> None:
    with kiosk.store() as store:
        queue_submissions(store, 1)
    moved(kiosk.data_dir, "http://127.0.0.1:9")  # nothing listens there: refused
    synced = kiosk.run("sync", "--max-wait", "0", "--lang", lang)
    out = assert_clean(synced, "sync")
    assert synced.returncode != 0 and out.strip()
    queue = kiosk.run("queue", "--lang", lang)
    assert_clean(queue, "queue")


@pytest.mark.parametrize("lang", LANGS)
def test_file_errors_are_said_not_quoted(kiosk: Kiosk, tmp_path: Path, lang: str) -> None:
    """An OSError's English text ("No such file or directory") is never printed."""
    with kiosk.store() as store:
        queue_submissions(store, 1)
    missing = tmp_path / "no" / "such" / "dir" / "out.bundle"
    for args in (("export-bundle", str(missing)), ("import-bundle", str(missing))):
        result = kiosk.run(*args, "--lang", lang)
        output = result.stdout + result.stderr
        assert result.returncode != 0 and output.strip(), (args, output)
        assert "No such file" not in output and "Errno" not in output, (args, output)
