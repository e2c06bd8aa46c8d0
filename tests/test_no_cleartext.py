"""No clear text on disk (issue 13, Done-when): after a citizen's data has gone through
the kiosk, nothing under the data directory reveals it to someone who copies the disk.

The kiosk is driven as in the field, by the real CLI (`kiosk enroll`, `kiosk submit`,
`kiosk sync`) against a real portal process on loopback: every bundled form's sample
is submitted with a marker name and PINFL in its name and PINFL fields, synced, and the
store is left as the app leaves it on exit (the CLI closes it; the wipe's checkpoint is
run as the idle wipe does). Then tests/cleartext.py searches every file, byte by byte,
in every encoding and inside every compressed blob and database value.

The other states the Done-when names are built by the `*_state` hooks below, each of
which leaves a data directory in one state; add a test for each as the feature lands:
`submitted_before_enrolment` (sealing before enrolment), `saved_draft` (drafts encrypted
under the resume code) and `exported_bundle` (bundles carry items sealed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import drafts
from kiosk.catalog import bundled_form_files, load_sample
from kiosk.store import Store
from kiosk.validators import is_valid_pinfl, pinfl_check_digit
from sync.portal.process import PortalProcess, create_enrolment_code, start_portal
from tests.cleartext import Finding, find_markers
from tests.integration.synckit import enroll_args, run_cli

MARKER_NAME = "Markerova Zulfiyaxon Тестовна"  # Latin and Cyrillic: UTF-8 and \\u escapes
_PINFL13 = "3150799531887"  # born 15.07.1999; the 14th digit is its check digit
MARKER_PINFL = _PINFL13 + str(pinfl_check_digit(_PINFL13))
MARKER_TAIL = "953188"  # digits 8 to 13 of every sample's marker PINFL


def marker_pinfl(pinfl: str) -> str:
    """A sample's PINFL made a marker: its first seven digits kept (forms check digits
    2 to 7 against the birth date), then MARKER_TAIL and a valid check digit."""
    body = pinfl[:7] + MARKER_TAIL
    return body + str(pinfl_check_digit(body))


def _sample_pinfls() -> list[str]:
    found = []
    for path in bundled_form_files():
        pinfl = load_sample(path.name.removesuffix(".md")).get("pinfl")
        if isinstance(pinfl, str):
            found.append(marker_pinfl(pinfl))
    return found


MARKERS = [MARKER_NAME, MARKER_PINFL, *_sample_pinfls()]
# Name fields, and an appeal's grounds (docs/appeals.md: the citizen's own words, as
# personal as a name; the decision_appeal form asks for nothing else personal).
REFUSED_SAMPLES = {"decision_appeal"}
NAME_KEY = re.compile(r"(^|_)name$|^grounds$")


def with_markers(answers: object) -> object:
    """The answers with every name field (repeats included) set to MARKER_NAME, and the
    applicant's PINFL to its marker (`marker_pinfl`; other people's PINFLs stay: forms check that they
    differ from the applicant's and agree with their birth dates)."""
    if isinstance(answers, list):
        return [with_markers(item) for item in answers]
    if not isinstance(answers, dict):
        return answers
    out: dict[str, object] = {}
    for key, value in answers.items():
        if isinstance(value, str) and NAME_KEY.search(key):
            out[key] = MARKER_NAME
        elif isinstance(value, str) and key == "pinfl":
            out[key] = marker_pinfl(value)
        else:
            out[key] = with_markers(value)
    return out


def bundled_form_ids() -> list[str]:
    return [path.name.removesuffix(".md") for path in bundled_form_files()]


def cli(data_dir: Path, *args: str) -> str:
    done = run_cli(data_dir, *args)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalProcess]:
    """A real portal with the bundled forms (their samples must be accepted)."""
    process = start_portal(tmp_path_factory.mktemp("portal"), "127.0.0.1", 0)
    try:
        yield process
    finally:
        process.stop()


# ----- the states a data directory is checked in (hooks) -------------------------------


def submit_every_sample(data_dir: Path, work: Path) -> int:
    """`kiosk submit` of every bundled form's sample with the markers; how many."""
    count = 0
    for form_id in bundled_form_ids():
        answers = with_markers(load_sample(form_id))
        assert MARKER_NAME in json.dumps(answers, ensure_ascii=False), form_id
        answers_file = work / f"{form_id}.answers.json"
        answers_file.write_text(json.dumps(answers, ensure_ascii=False), encoding="utf-8")
        cli(data_dir, "submit", "--form", form_id, "--answers", str(answers_file))
        answers_file.unlink()  # the test's own file, outside the data dir anyway
        count += 1
    return count


def wipe_as_the_app_does(data_dir: Path) -> None:
    """What the app does at the idle wipe and on exit, for the store: checkpoint the
    WAL (TRUNCATE) and close (screens/app.py `wipe`)."""
    with Store.open(data_dir) as store:
        store.checkpoint()


def enrolled(data_dir: Path, portal: PortalProcess) -> None:
    """`kiosk enroll` with a fresh code from ``portal``."""
    code = create_enrolment_code(portal.data_dir)
    cli(data_dir, "enroll", *enroll_args(portal), "--code", code)


def submitted_and_synced_state(data_dir: Path, work: Path, portal: PortalProcess) -> None:
    """Enrolled, every sample submitted with the markers, synced, wiped, closed."""
    enrolled(data_dir, portal)
    assert submit_every_sample(data_dir, work) == len(bundled_form_ids())
    cli(data_dir, "sync")
    with Store.open(data_dir) as store:
        states = sorted(row["state"] for row in store.queue())
    # The appeal's sample appeals an application this portal does not hold: refused
    # (appeal.unknown_code, docs/appeals.md), its sealed blob kept like any refusal's.
    refused = [f for f in bundled_form_ids() if f in REFUSED_SAMPLES]
    expected = ["rejected"] * len(refused) + ["sent"] * (len(bundled_form_ids()) - len(refused))
    assert states == sorted(expected), states
    wipe_as_the_app_does(data_dir)


def submitted_before_enrolment_state(data_dir: Path, work: Path) -> None:
    """Never enrolled (a demo's first minutes, a field laptop): every sample submitted
    with the markers, wiped, closed. For when submissions are sealed before enrolment."""
    submit_every_sample(data_dir, work)
    wipe_as_the_app_does(data_dir)


def saved_draft_state(data_dir: Path) -> None:
    """A draft holding the markers saved (as "Save for later" does), then the store
    closed. For when drafts are encrypted under the citizen's resume code."""
    with Store.open(data_dir) as store:
        form_id = bundled_form_ids()[0]
        answers = with_markers(load_sample(form_id))
        assert isinstance(answers, dict)
        store.save_draft(None, drafts.new_key(), form_id, "1", "uz_Latn", answers, None)
    wipe_as_the_app_does(data_dir)


def exported_bundle_state(
    data_dir: Path, work: Path, bundle_dir: Path, portal: PortalProcess
) -> None:
    """Enrolled, every sample submitted, then exported (not synced) as a bundle into
    ``bundle_dir`` (a USB stick) with `kiosk export-bundle`. For when bundles carry
    items sealed; scan both ``data_dir`` and ``bundle_dir``."""
    enrolled(data_dir, portal)
    submit_every_sample(data_dir, work)
    cli(data_dir, "export-bundle", str(bundle_dir / "kiosk.bundle"))
    wipe_as_the_app_does(data_dir)


class ClearText(AssertionError):
    """A marker was found on disk (an xfail expects this, not a broken set-up)."""


def assert_no_markers(*roots: Path) -> None:
    """No marker anywhere under ``roots``; else ClearText listing every place."""
    found: list[Finding] = []
    for root in roots:
        found += find_markers(root, MARKERS)
    if found:
        places = sorted({f"{f.file} [{f.where}{' via ' + f.via if f.via else ''}]" for f in found})
        raise ClearText(f"{len(found)} findings in {len(places)} places:\n" + "\n".join(places))


# ----- the cases ----------------------------------------------------------------------


def test_the_markers_are_valid_answers() -> None:
    assert all(is_valid_pinfl(marker) for marker in MARKERS[1:])
    assert all(form_id for form_id in bundled_form_ids())


def test_every_sample_carries_both_markers(tmp_path: Path) -> None:
    """What is submitted holds the markers, as the scanner reads them: a search that
    finds nothing afterwards means they were sealed or deleted, not never there."""
    for form_id in bundled_form_ids():
        answers = json.dumps(with_markers(load_sample(form_id)), ensure_ascii=False)
        (tmp_path / f"{form_id}.json").write_text(answers, encoding="utf-8")
    found = find_markers(tmp_path, MARKERS)
    for form_id in bundled_form_ids():
        markers = {f.marker for f in found if f.file == f"{form_id}.json"}
        pinfl = load_sample(form_id).get("pinfl")
        expected = {MARKER_NAME, marker_pinfl(pinfl)} if isinstance(pinfl, str) else {MARKER_NAME}
        assert markers == expected, (form_id, markers)


@pytest.mark.slow
def test_no_marker_on_disk_after_submit_sync_and_wipe(
    tmp_path: Path, portal: PortalProcess
) -> None:
    data_dir = tmp_path / "kiosk"
    submitted_and_synced_state(data_dir, tmp_path, portal)
    assert_no_markers(data_dir)


# Before enrolment the items are sealed to the key installed with the kiosk (here the
# tests' key, KIOSK_SEALING_KEY from tests/conftest.py), as docs/keys.md describes.


@pytest.mark.slow
def test_no_marker_on_disk_before_enrolment(tmp_path: Path) -> None:
    data_dir = tmp_path / "kiosk"
    submitted_before_enrolment_state(data_dir, tmp_path)
    assert_no_markers(data_dir)


def test_no_marker_on_disk_for_a_saved_draft(tmp_path: Path) -> None:
    data_dir = tmp_path / "kiosk"
    saved_draft_state(data_dir)
    assert_no_markers(data_dir)


@pytest.mark.slow
def test_no_marker_on_disk_for_an_exported_bundle(tmp_path: Path, portal: PortalProcess) -> None:
    data_dir = tmp_path / "kiosk"
    usb = tmp_path / "usb"
    usb.mkdir()
    exported_bundle_state(data_dir, tmp_path, usb, portal)
    assert_no_markers(data_dir, usb)
