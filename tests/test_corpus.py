"""The public XLSForm corpus (tests/corpus/SOURCES.tsv, issue 17): at least 90% of the
forms that count load, and each form a kiosk cannot serve is refused with a reason.

The form files are third-party material kept on the machine, not in git
(tests/corpus/README.md); without them this test is skipped with that reason.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests import corpus_kit

MIN_RATE = 0.90


def test_the_list_is_well_formed() -> None:
    entries = corpus_kit.entries()
    assert len(entries) >= 150
    assert len({e.file for e in entries}) == len(entries)
    assert len({e.sha256 for e in entries}) == len(entries)  # no duplicates
    for e in entries:
        assert e.repository.count("/") == 1 and len(e.commit) == 40 and e.licence


def test_public_forms_load(capsys: pytest.CaptureFixture[str]) -> None:
    outcomes, missing = corpus_kit.measure()
    if not outcomes:
        pytest.skip(f"the corpus files are not on this machine ({corpus_kit.folder()})")
    if shutil.which("java") is None and os.environ.get("CI") == "true":
        pytest.fail("Java (ODK Validate) is needed to tell forms ODK refuses from failures")
    loads, counted = corpus_kit.rate(outcomes)
    with capsys.disabled():
        print(
            f"\npublic XLSForms: {len(outcomes)} here of {len(outcomes) + len(missing)} listed;"
            f" {loads}/{counted} load ({100 * loads / counted:.1f}%);"
            f" {sum(o.status == 'refused' for o in outcomes)} refused (not at a kiosk),"
            f" {sum(o.status == 'invalid' for o in outcomes)} refused by pyxform/ODK itself"
        )
        for o in outcomes:
            if o.status == "fails":
                print(f"  fails: {o.entry.file}: {o.reason}")
    assert counted >= 50
    assert loads / counted >= MIN_RATE
    for o in outcomes:
        if o.status in ("refused", "invalid"):
            assert o.reason, o.entry.file  # every refusal says why
        if o.status == "refused":
            assert "instead" in o.reason, o.reason  # and what to use instead
